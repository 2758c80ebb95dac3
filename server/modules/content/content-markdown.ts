/**
 * An article's body: a small Markdown subset rendered to HTML, pure. Every character of the text
 * is HTML-escaped before any markup is added, and links and images take only http(s) URLs or
 * paths on this site, so a stored body cannot carry markup, a script or a `javascript:` URL:
 * there is no sanitiser to keep up to date because nothing unsafe is ever let through.
 *
 * Blocks: `#`..`###` headings, `-`/`*` and `1.` lists, `>` quotes, `![alt](url)` images on a line
 * of their own, paragraphs (a single line break inside one is kept). Inline: `**bold**`,
 * `*italic*`, `` `code` ``, `[text](url)`.
 *
 * `siteUrl`: an image's path on this site is made absolute with it, for a reader with no page
 * origin to resolve it against (the mini-program's <rich-text>).
 */
export function renderMarkdown(source: string, options: { siteUrl?: string } = {}): string {
  const blocks: string[] = [];
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      i += 1;
      continue;
    }
    const heading = /^(#{1,3})\s+(.*)$/.exec(line);
    if (heading) {
      const level = heading[1].length + 1;
      blocks.push(`<h${level}>${renderInline(heading[2].trim())}</h${level}>`);
      i += 1;
      continue;
    }
    const image = /^!\[([^\]]*)\]\(([^)\s]+)\)\s*$/.exec(line.trim());
    if (image) {
      const safe = safeUrl(image[2]);
      const url = safe?.startsWith('/') && options.siteUrl ? `${options.siteUrl}${safe}` : safe;
      blocks.push(
        url ? `<p><img src="${escapeHtml(url)}" alt="${escapeHtml(image[1])}" loading="lazy"></p>` : `<p>${escapeHtml(line)}</p>`,
      );
      i += 1;
      continue;
    }
    const list = listItem(line);
    if (list) {
      const items: string[] = [];
      while (i < lines.length) {
        const item = listItem(lines[i]);
        if (!item || item.ordered !== list.ordered) break;
        items.push(`<li>${renderInline(item.text)}</li>`);
        i += 1;
      }
      const tag = list.ordered ? 'ol' : 'ul';
      blocks.push(`<${tag}>${items.join('')}</${tag}>`);
      continue;
    }
    if (line.startsWith('>')) {
      const quoted: string[] = [];
      while (i < lines.length && lines[i].startsWith('>')) {
        quoted.push(renderInline(lines[i].replace(/^>\s?/, '')));
        i += 1;
      }
      blocks.push(`<blockquote><p>${quoted.join('<br>')}</p></blockquote>`);
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && lines[i].trim() !== '' && !startsBlock(lines[i])) {
      paragraph.push(renderInline(lines[i].trim()));
      i += 1;
    }
    if (paragraph.length === 0) {
      // A line that looks like a block start but matched none above (`#nospace`): plain text.
      paragraph.push(renderInline(lines[i].trim()));
      i += 1;
    }
    blocks.push(`<p>${paragraph.join('<br>')}</p>`);
  }
  return blocks.join('\n');
}

function listItem(line: string): { ordered: boolean; text: string } | null {
  const bullet = /^\s*[-*]\s+(.*)$/.exec(line);
  if (bullet) return { ordered: false, text: bullet[1] };
  const ordered = /^\s*\d{1,3}[.)]\s+(.*)$/.exec(line);
  return ordered ? { ordered: true, text: ordered[1] } : null;
}

function startsBlock(line: string): boolean {
  return /^#{1,3}\s/.test(line) || listItem(line) !== null || line.startsWith('>') || /^!\[[^\]]*\]\([^)\s]+\)\s*$/.test(line.trim());
}

/** Escape first, then add the inline markup over the escaped text (which holds no `<` any more). */
function renderInline(text: string): string {
  const codes: string[] = [];
  // U+E000 (private use) marks a code span's place; any in the text is dropped first.
  let html = escapeHtml(text.replace(/\uE000/g, '')).replace(/`([^`]+)`/g, (_all, code: string) => {
    codes.push(`<code>${code}</code>`);
    return `\uE000${codes.length - 1}\uE000`;
  });
  html = html.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (all, label: string, href: string) => {
    // The URL was escaped with the rest (`&amp;`): undo that to check it, escape it again to write it.
    const url = safeUrl(unescapeHtml(href));
    return url ? `<a href="${escapeHtml(url)}" rel="noopener">${label}</a>` : all;
  });
  html = html.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>').replace(/\*([^*]+)\*/g, '<em>$1</em>');
  return html.replace(/\uE000(\d+)\uE000/g, (_all, index: string) => codes[Number(index)] ?? '');
}

/** http(s) URLs and paths on this site only (`/…`, not `//host`). */
function safeUrl(url: string): string | null {
  if (/^https?:\/\/[^\s"'<>]+$/i.test(url)) return url;
  if (/^\/(?!\/)[^\s"'<>]*$/.test(url)) return url;
  return null;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

function unescapeHtml(text: string): string {
  return text.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_all, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name] ?? '',
  );
}
