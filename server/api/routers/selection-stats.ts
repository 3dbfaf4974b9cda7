import { ZJobRunIdInput, ZProjectIdInput, ZStartSimulationInput } from "@/contracts/selection-stats";
import { getSelectionStats, listSelectionProjects } from "../../services/selection-stats";
import { getSimulation, listSimulations, startSimulation } from "../../services/simulation-service";
import { createRouter, procedure } from "../trpc";

/** Selection statistics and what-if simulations for data scientists. */
export const selectionStatsRouter = createRouter({
  projects: procedure("selectionStats.projects").query(({ ctx }) => listSelectionProjects(ctx.service)),
  get: procedure("selectionStats.get").input(ZProjectIdInput).query(({ ctx, input }) => getSelectionStats(ctx.service, input)),
  startSimulation: procedure("selectionStats.startSimulation").input(ZStartSimulationInput).mutation(({ ctx, input }) => startSimulation(ctx.service, input)),
  simulation: procedure("selectionStats.simulation").input(ZJobRunIdInput).query(({ ctx, input }) => getSimulation(ctx.service, input)),
  simulations: procedure("selectionStats.simulations").input(ZProjectIdInput).query(({ ctx, input }) => listSimulations(ctx.service, input)),
});
