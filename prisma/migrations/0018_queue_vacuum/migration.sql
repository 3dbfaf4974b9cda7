-- Issue 16: the queue's two churning tables are vacuumed after every 1,000 dead rows, whatever their size.
-- Hand-written (storage parameters: prisma/schema.prisma cannot state them, and `prisma migrate diff` compares
-- datamodels only, so nothing reports them as drift).
--
-- Every submission ends a lease (QueueLease."completedAt" set) and, with the last answer a case needs, its item
-- (QueueItem.status PENDING → DONE). Neither update can be HOT (both columns are indexed), so each leaves a dead
-- entry in the indexes the lease's statements walk in order: the PENDING range of QueueItem(roundId, status, rank),
-- walked by the candidate from the best rank, and the open-leases index of migration 0017, read whole by the
-- candidate and the away-holder release. Only VACUUM removes those entries. With PostgreSQL's default (20 % of the
-- table dead before autovacuum starts) a round of 12,200 items carried up to 2,500 of them, and the backends' CPU
-- per submit-and-take-the-next grew from 2.3 to 4.3 ms as the round was answered (docs/benchmarks.md, "Dead index
-- entries"). A fixed threshold keeps that bounded; no cost delay, so a vacuum of these small tables ends quickly;
-- index cleanup always on, so a large table's few dead rows are not left in its indexes (PostgreSQL skips index
-- vacuuming when under 2 % of the pages have dead rows). The embedded PostgreSQL checks every 5 s
-- (server/db/embedded-postgres.ts autovacuum_naptime); another server keeps its own naptime (default 1 min).
-- Tested by server/db/hot-path-indexes.int.test.ts.
ALTER TABLE "QueueItem" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0, vacuum_index_cleanup = on);
ALTER TABLE "QueueLease" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0, vacuum_index_cleanup = on);
