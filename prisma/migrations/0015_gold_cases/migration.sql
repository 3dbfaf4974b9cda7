-- Gold cases (issue 14 item 3): a data scientist marks cases with a known answer (imported with a label or
-- adjudicated); the queue mixes them into clinicians' work at settings.goldRate, each at most once per
-- clinician (GoldServing unique (caseId, userId)); accuracy on gold per annotator is reported on the
-- agreement page (server/services/gold-service.ts).

-- CreateTable
CREATE TABLE "GoldCase" (
    "caseId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "labels" TEXT[],
    "source" TEXT NOT NULL,
    "markedById" TEXT,
    "markedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GoldCase_pkey" PRIMARY KEY ("caseId"),
    CONSTRAINT "GoldCase_source_check" CHECK ("source" IN ('imported', 'adjudicated'))
);

-- CreateTable
CREATE TABLE "GoldServing" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "caseId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "roundId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "servedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GoldServing_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "GoldCase_projectId_idx" ON "GoldCase"("projectId");

-- CreateIndex
CREATE INDEX "GoldServing_roundId_userId_idx" ON "GoldServing"("roundId", "userId");

-- CreateIndex
CREATE INDEX "GoldServing_projectId_userId_idx" ON "GoldServing"("projectId", "userId");

-- CreateIndex
CREATE UNIQUE INDEX "GoldServing_caseId_userId_key" ON "GoldServing"("caseId", "userId");

-- AddForeignKey
ALTER TABLE "GoldCase" ADD CONSTRAINT "GoldCase_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GoldCase" ADD CONSTRAINT "GoldCase_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GoldCase" ADD CONSTRAINT "GoldCase_markedById_fkey" FOREIGN KEY ("markedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GoldServing" ADD CONSTRAINT "GoldServing_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GoldServing" ADD CONSTRAINT "GoldServing_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GoldServing" ADD CONSTRAINT "GoldServing_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GoldServing" ADD CONSTRAINT "GoldServing_roundId_fkey" FOREIGN KEY ("roundId") REFERENCES "SelectionRound"("id") ON DELETE CASCADE ON UPDATE CASCADE;
