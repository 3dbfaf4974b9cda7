import { ArchiveSection } from "./archive-section";
import { ConfigFileSection } from "./config-file-section";
import { EncoderSection } from "./encoder-section";
import { GeneralSection } from "./general-section";
import { LabelSchemaSection } from "./label-schema-section";
import { SelectionSection } from "./selection-section";
import { RemountAfterLabelSave, SettingsGate } from "./settings-gate";

/**
 * A project's settings: a column of independent sections, each loading and saving its own part
 * (selection/loop and encoder also have pages of their own under settings/).
 */
export default async function ProjectSettingsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <SettingsGate projectId={projectId}>
      <GeneralSection projectId={projectId} />
      <LabelSchemaSection projectId={projectId} />
      <RemountAfterLabelSave>
        <SelectionSection projectId={projectId} />
      </RemountAfterLabelSave>
      <EncoderSection projectId={projectId} />
      <ConfigFileSection projectId={projectId} />
      <ArchiveSection projectId={projectId} />
    </SettingsGate>
  );
}
