/** Pure data (the page's error-code test imports it through server/http/error-codes.ts). */
/** The rule codes a refused definition carries (sentences under `journeys.issues.<code>` in both locales). */
export const JOURNEY_RULE_CODES = [
  'journey_duplicate_node',
  'journey_unknown_node',
  'journey_cycle_without_wait',
  'journey_template_missing',
  'journey_open_wait_not_send',
  'journey_split_weights',
  'journey_url_not_for_channel',
  'journey_material_unknown',
  'journey_not_found',
  'journey_not_active',
  'journey_no_published_version',
  'journey_migration_version',
  'journey_migration_unmapped',
  'journey_migration_incompatible',
] as const;
export type JourneyRuleCode = (typeof JOURNEY_RULE_CODES)[number];
