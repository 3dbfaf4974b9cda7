import type { Prisma, PrismaClient } from "./generated/client";

/** A repository function works on the client or inside a transaction alike. */
export type DbOrTx = PrismaClient | Prisma.TransactionClient;
