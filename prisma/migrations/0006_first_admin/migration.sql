-- The first admin of an empty platform (`SEED_DEMO=false npm start`) gets a password that is
-- printed once; this flag makes them choose their own at first sign-in (server-side enforcement in
-- server/api/trpc.ts). Existing users are not affected (default false).
ALTER TABLE "User" ADD COLUMN "mustChangePassword" BOOLEAN NOT NULL DEFAULT false;
