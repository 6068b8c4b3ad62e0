// Block Kit's documented limits (api.slack.com/reference/block-kit — blocks, block elements, composition
// objects; chat.postMessage), checked on any message or Home tab a view builds. Slack answers
// `invalid_blocks` (and posts nothing) when one is broken, so each is a failed delivery.
export const BLOCK_KIT_LIMITS = {
  messageBlocks: 50,
  homeBlocks: 100,
  /** chat.postMessage truncates `text` past 40,000 characters. */
  messageText: 40_000,
  /** A text object (section text, context element, …). */
  text: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  blockId: 255,
  actionId: 255,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
  placeholderText: 150,
  imageAltText: 2000,
} as const;

const L = BLOCK_KIT_LIMITS;

type Json = Record<string, unknown>;
const asText = (t: unknown): string | undefined => (t && typeof t === 'object' && typeof (t as Json)['text'] === 'string' ? ((t as Json)['text'] as string) : undefined);

function checkElement(el: Json, where: string, problems: string[], actionIds: Set<string>): void {
  const over = (what: string, len: number, max: number) => len > max && problems.push(`${where}: ${what} has ${len} characters (limit ${max})`);
  if (typeof el['action_id'] === 'string') {
    over('action_id', el['action_id'].length, L.actionId);
    if (actionIds.has(el['action_id'])) problems.push(`${where}: action_id "${el['action_id']}" is used twice in one block`);
    actionIds.add(el['action_id']);
  }
  const text = asText(el['text']);
  if (el['type'] === 'button') {
    over('button text', text?.length ?? 0, L.buttonText);
    if (typeof el['value'] === 'string') over('button value', el['value'].length, L.buttonValue);
    if (typeof el['url'] === 'string') over('button url', el['url'].length, L.buttonUrl);
  } else if (text !== undefined) {
    over('text', text.length, L.text);
  }
  const placeholder = asText(el['placeholder']);
  if (placeholder !== undefined) over('placeholder', placeholder.length, L.placeholderText);
  if (Array.isArray(el['options'])) {
    if (el['options'].length > L.selectOptions) problems.push(`${where}: ${el['options'].length} options (limit ${L.selectOptions})`);
    for (const o of el['options'] as Json[]) {
      over('option text', asText(o['text'])?.length ?? 0, L.optionText);
      if (typeof o['value'] === 'string') over('option value', o['value'].length, L.optionValue);
    }
  }
  if (el['type'] === 'image' && typeof el['alt_text'] === 'string') over('alt_text', el['alt_text'].length, L.imageAltText);
}

/** Every way `payload` breaks Block Kit's limits, as readable lines; empty when Slack would take it. */
export function blockKitProblems(payload: { text?: string; blocks: unknown[] }, surface: 'message' | 'home' = 'message'): string[] {
  const problems: string[] = [];
  const maxBlocks = surface === 'home' ? L.homeBlocks : L.messageBlocks;
  if (payload.blocks.length > maxBlocks) problems.push(`${payload.blocks.length} blocks (limit ${maxBlocks} in a ${surface})`);
  if (payload.text !== undefined && payload.text.length > L.messageText) problems.push(`text has ${payload.text.length} characters (limit ${L.messageText})`);
  if (surface === 'message' && payload.text !== undefined && payload.text.trim() === '') problems.push('empty fallback text (notifications and screen readers show nothing)');
  const blockIds = new Set<string>();
  payload.blocks.forEach((raw, i) => {
    const b = raw as Json;
    const where = `block ${i} (${String(b['type'])})`;
    const over = (what: string, len: number, max: number) => len > max && problems.push(`${where}: ${what} has ${len} characters (limit ${max})`);
    if (typeof b['block_id'] === 'string') {
      over('block_id', b['block_id'].length, L.blockId);
      if (blockIds.has(b['block_id'])) problems.push(`${where}: block_id "${b['block_id']}" is used twice`);
      blockIds.add(b['block_id']);
    }
    const actionIds = new Set<string>();
    switch (b['type']) {
      case 'section': {
        const text = asText(b['text']);
        const fields = (b['fields'] as Json[] | undefined) ?? [];
        if (text === undefined && fields.length === 0) problems.push(`${where}: neither text nor fields`);
        if (text !== undefined) {
          over('text', text.length, L.text);
          if (text.length === 0) problems.push(`${where}: empty text`);
        }
        if (fields.length > L.sectionFields) problems.push(`${where}: ${fields.length} fields (limit ${L.sectionFields})`);
        fields.forEach((f, j) => over(`field ${j}`, asText(f)?.length ?? 0, L.fieldText));
        if (b['accessory']) checkElement(b['accessory'] as Json, `${where} accessory`, problems, actionIds);
        break;
      }
      case 'header':
        over('header text', asText(b['text'])?.length ?? 0, L.headerText);
        break;
      case 'context': {
        const elements = (b['elements'] as Json[] | undefined) ?? [];
        if (elements.length === 0 || elements.length > L.contextElements) problems.push(`${where}: ${elements.length} elements (1 to ${L.contextElements})`);
        elements.forEach((e, j) => checkElement(e, `${where} element ${j}`, problems, actionIds));
        break;
      }
      case 'actions': {
        const elements = (b['elements'] as Json[] | undefined) ?? [];
        if (elements.length === 0 || elements.length > L.actionsElements) problems.push(`${where}: ${elements.length} elements (1 to ${L.actionsElements})`);
        elements.forEach((e, j) => checkElement(e, `${where} element ${j}`, problems, actionIds));
        break;
      }
      case 'image':
        checkElement(b, where, problems, actionIds);
        break;
      case 'divider':
        break;
      default:
        problems.push(`${where}: a block type this checker does not know — add its limits here`);
    }
  });
  return problems;
}
