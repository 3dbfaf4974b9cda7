// Prisma 6.19 runs offline only with the WebAssembly engines ("engine: js" + a driver adapter);
// see docs/ARCHITECTURE.md. Migrations are applied by server/db/migrate.ts, not by `prisma migrate`.
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

export default defineConfig({
  schema: "prisma/schema.prisma",
  experimental: { adapter: true },
  engine: "js",
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL ?? "postgresql://localhost:5432/unused" }),
});
