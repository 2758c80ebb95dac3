import { renderMarkdown } from '../../../server/modules/content/content-markdown';

describe('renderMarkdown: a small subset, every character escaped first', () => {
  it('renders headings, paragraphs, lists, quotes, images and inline marks', () => {
    const html = renderMarkdown(
      [
        '# 展会指南',
        '',
        '第一行',
        '第二行 **重点** *提示* `A12`',
        '',
        '- 甲',
        '- 乙',
        '',
        '1. 一',
        '2. 二',
        '',
        '> 引用',
        '',
        '![展位](/c/abc/file)',
      ].join('\n'),
    );
    expect(html.split('\n')).toEqual([
      '<h2>展会指南</h2>',
      '<p>第一行<br>第二行 <strong>重点</strong> <em>提示</em> <code>A12</code></p>',
      '<ul><li>甲</li><li>乙</li></ul>',
      '<ol><li>一</li><li>二</li></ol>',
      '<blockquote><p>引用</p></blockquote>',
      '<p><img src="/c/abc/file" alt="展位" loading="lazy"></p>',
    ]);
  });

  it('never lets markup, scripts or unsafe URLs through', () => {
    expect(renderMarkdown('<img src=x onerror=alert(1)>')).toBe('<p>&lt;img src=x onerror=alert(1)&gt;</p>');
    expect(renderMarkdown('[点我](javascript:alert(1))')).toBe('<p>[点我](javascript:alert(1))</p>');
    expect(renderMarkdown('[点我](//evil.example/x)')).toBe('<p>[点我](//evil.example/x)</p>');
    expect(renderMarkdown('![x](data:image/svg+xml;base64,AAAA)')).toBe('<p>![x](data:image/svg+xml;base64,AAAA)</p>');
    expect(renderMarkdown('[a](https://e.com/?a=1&b="2")')).toBe('<p>[a](https://e.com/?a=1&amp;b=&quot;2&quot;)</p>');
    expect(renderMarkdown('[官网](https://e.com/?a=1&b=2)')).toBe('<p><a href="https://e.com/?a=1&amp;b=2" rel="noopener">官网</a></p>');
    expect(renderMarkdown('**<b>**')).toBe('<p><strong>&lt;b&gt;</strong></p>');
  });

  it('makes an image on this site absolute for a reader without an origin, and leaves other URLs alone', () => {
    const html = renderMarkdown('![展位](/c/abc/file)\n\n![外链](https://cdn.example.com/a.png)\n\n[链接](/c/abc)', {
      siteUrl: 'https://flywheel.example.com',
    });
    expect(html.split('\n')).toEqual([
      '<p><img src="https://flywheel.example.com/c/abc/file" alt="展位" loading="lazy"></p>',
      '<p><img src="https://cdn.example.com/a.png" alt="外链" loading="lazy"></p>',
      '<p><a href="/c/abc" rel="noopener">链接</a></p>',
    ]);
  });

  it('an empty body renders nothing', () => {
    expect(renderMarkdown('')).toBe('');
    expect(renderMarkdown('\n\n  \n')).toBe('');
  });
});
