import { ZProjectSettingsGetInput, ZTryEncoderInput, ZUpdateEncoderInput, ZUpdateSelectionSettingsInput } from "@/contracts/project-settings";
import { getEncoderSettings, listEncoderModels, tryEncoder, updateEncoder } from "../../services/encoder-service";
import { getSelectionSettings, updateSelectionSettings } from "../../services/project-settings-service";
import { createRouter, procedure } from "../trpc";

export const projectSettingsRouter = createRouter({
  selection: procedure("projectSettings.selection").input(ZProjectSettingsGetInput).query(({ ctx, input }) => getSelectionSettings(ctx.service, input)),
  updateSelection: procedure("projectSettings.updateSelection").input(ZUpdateSelectionSettingsInput).mutation(({ ctx, input }) => updateSelectionSettings(ctx.service, input)),
});

export const encoderRouter = createRouter({
  get: procedure("encoder.get").input(ZProjectSettingsGetInput).query(({ ctx, input }) => getEncoderSettings(ctx.service, input)),
  models: procedure("encoder.models").input(ZProjectSettingsGetInput).query(({ ctx, input }) => listEncoderModels(ctx.service, input)),
  // A bounded synchronous call (three cases, ≤ 30 s) that writes nothing: a query.
  tryIt: procedure("encoder.tryIt").input(ZTryEncoderInput).query(({ ctx, input }) => tryEncoder(ctx.service, input)),
  update: procedure("encoder.update").input(ZUpdateEncoderInput).mutation(({ ctx, input }) => updateEncoder(ctx.service, input)),
});
