/**
 * The small template language of invitation mails: `{{name}}` inserts a value, and
 * `{{#name}}…{{/name}}` keeps its content only when the value is not empty (the customised
 * message is optional). Nothing else: no loops, no expressions, no partials, so a template from
 * the config cannot do more than place the values Portico hands it.
 *
 * Kept free of imports so the config schema can check templates with the very parser that
 * renders them.
 */

export const PLACEHOLDERS = ['inviter', 'organisation', 'redeemUrl', 'message', 'guestName', 'expiresInDays', 'primaryColor'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type TemplateValues = Readonly<Record<Placeholder, string>>;

type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'value'; readonly name: Placeholder }
  | { readonly kind: 'section'; readonly name: Placeholder; readonly body: readonly Node[] };

const TAG = /\{\{\s*([#/]?)\s*([^{}]*?)\s*\}\}/g;
const isPlaceholder = (name: string): name is Placeholder => (PLACEHOLDERS as readonly string[]).includes(name);

export class TemplateSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

/** Parses a template; throws TemplateSyntaxError naming the first problem. */
export function parseTemplate(source: string): readonly Node[] {
  const root: Node[] = [];
  const stack: { name: Placeholder; body: Node[] }[] = [];
  const current = (): Node[] => stack.at(-1)?.body ?? root;
  const pushText = (text: string): void => {
    // A brace pair the tag pattern did not take is a typo (`{{inviter}` or `{{ {x} }}`), not text.
    if (text.includes('{{') || text.includes('}}')) throw new TemplateSyntaxError('unbalanced {{ or }}');
    if (text) current().push({ kind: 'text', text });
  };
  let last = 0;
  for (const match of source.matchAll(TAG)) {
    pushText(source.slice(last, match.index));
    last = match.index + match[0].length;
    const [, sigil, name = ''] = match;
    if (!isPlaceholder(name)) {
      throw new TemplateSyntaxError(`unknown placeholder {{${sigil}${name}}} (known: ${PLACEHOLDERS.join(', ')})`);
    }
    if (sigil === '#') {
      stack.push({ name, body: [] });
    } else if (sigil === '/') {
      const open = stack.pop();
      if (open?.name !== name) throw new TemplateSyntaxError(`{{/${name}}} closes ${open ? `{{#${open.name}}}` : 'nothing'}`);
      current().push({ kind: 'section', name, body: open.body });
    } else {
      current().push({ kind: 'value', name });
    }
  }
  pushText(source.slice(last));
  if (stack.length > 0) throw new TemplateSyntaxError(`{{#${stack.at(-1)!.name}}} is never closed`);
  return root;
}

/** The problem with a template in words, or undefined: what the config loader reports. */
export function templateProblem(source: string): string | undefined {
  try {
    parseTemplate(source);
    return undefined;
  } catch (error) {
    if (error instanceof TemplateSyntaxError) return error.message;
    throw error;
  }
}

/** Renders `source`, passing every value through `escape` (HTML escaping for HTML bodies). */
export function renderTemplate(source: string, values: TemplateValues, escape: (value: string) => string = (value) => value): string {
  const render = (nodes: readonly Node[]): string =>
    nodes
      .map((node) => {
        if (node.kind === 'text') return node.text;
        if (node.kind === 'value') return escape(values[node.name]);
        return values[node.name] === '' ? '' : render(node.body);
      })
      .join('');
  return render(parseTemplate(source));
}
