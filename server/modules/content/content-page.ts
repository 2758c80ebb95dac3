import type { ContentKind } from '../../../entities/content-material.entity';
import { escapeHtml, renderMarkdown } from './content-markdown';

/** The longest read a beacon may report, in seconds (a tab left open overnight is not a read). */
export const MAX_READ_SECONDS = 4 * 60 * 60;
/** How often the open page reports its read time: a closed tab's last beacon can be lost. */
const BEACON_EVERY_MS = 15_000;

export interface ContentPageParams {
  kind: ContentKind;
  title: string;
  summary: string | null;
  body: string | null;
  /** `/c/<code>/file` when the material has a file (an article's cover), else null. */
  fileUrl: string | null;
  fileType: string | null;
  fileSize: number | null;
  beaconUrl: string;
  viewKey: string;
  /** The CSP nonce of this answer's one style and one script. */
  nonce: string;
}

/**
 * The material's page at `/c/<code>`, rendered on the server in one small HTML answer: it is
 * opened from a WeChat chat or Moments on a phone, where a blank screen while a script bundle
 * loads loses the reader; this page has no bundle, one inline style, and a 30-line script whose
 * only job is the read-time beacon. Pure.
 */
export function renderContentPage(p: ContentPageParams): string {
  const file = p.fileUrl ? escapeHtml(p.fileUrl) : null;
  let main = '';
  switch (p.kind) {
    case 'article':
      main =
        (file ? `<img class="cover" src="${file}" alt="">` : '') +
        (p.summary ? `<p class="summary">${escapeHtml(p.summary)}</p>` : '') +
        `<article>${renderMarkdown(p.body ?? '')}</article>`;
      break;
    case 'image':
      main = file ? `<img class="full" src="${file}" alt="${escapeHtml(p.title)}">` : MISSING;
      break;
    case 'video':
      main = file ? `<video class="full" src="${file}" controls playsinline webkit-playsinline preload="metadata"></video>` : MISSING;
      break;
    case 'pdf':
      main = file ? `<a class="button" href="${file}">打开 PDF 文件${p.fileSize ? `（${formatSize(p.fileSize)}）` : ''}</a>` : MISSING;
      break;
  }
  if (p.kind !== 'article' && p.summary) main += `<p class="summary">${escapeHtml(p.summary)}</p>`;
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>${escapeHtml(p.title)}</title>
<style nonce="${p.nonce}">${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(p.title)}</h1>
${main}
</main>
<script nonce="${p.nonce}">${beaconScript(p.beaconUrl, p.viewKey)}</script>
</body>
</html>
`;
}

const MISSING = '<p class="summary">内容暂未上传。</p>';

const STYLE = [
  'body{margin:0;font:16px/1.7 -apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei",sans-serif;color:#1f2329;background:#fff}',
  'main{max-width:720px;margin:0 auto;padding:16px 16px 48px}',
  'h1{font-size:22px;line-height:1.4;margin:8px 0 16px}',
  'h2,h3,h4{line-height:1.4;margin:24px 0 8px}',
  'img,video{max-width:100%;height:auto;display:block}',
  '.cover,.full{width:100%;border-radius:6px;margin:0 0 16px;background:#f2f3f5}',
  '.summary{color:#646a73}',
  'blockquote{margin:0;padding:0 12px;border-left:3px solid #dee0e3;color:#646a73}',
  'code{background:#f2f3f5;padding:0 4px;border-radius:3px}',
  'a{color:#3370ff}',
  '.button{display:block;text-align:center;padding:12px;border-radius:6px;background:#3370ff;color:#fff;text-decoration:none}',
].join('');

/**
 * Counts the seconds the page is visible and reports the total (the server keeps the latest):
 * every 15 s while open, and when the page is hidden or left. sendBeacon survives the tab
 * closing; without it, fetch with keepalive.
 */
function beaconScript(url: string, viewKey: string): string {
  // JSON.stringify gives JavaScript string literals; `<` is escaped so `</script>` cannot occur.
  const literal = (text: string) => JSON.stringify(text).replace(/</g, '\\u003c');
  return `(function(){
var url=${literal(url)},view=${literal(viewKey)},shown=0,since=document.hidden?0:Date.now(),last=-1;
function seconds(){return Math.round((shown+(since?Date.now()-since:0))/1000);}
function send(){var s=Math.min(seconds(),${MAX_READ_SECONDS});if(s===last)return;last=s;
var body=JSON.stringify({view:view,seconds:s});
if(navigator.sendBeacon&&navigator.sendBeacon(url,body))return;
try{fetch(url,{method:'POST',body:body,keepalive:true,headers:{'Content-Type':'text/plain'}});}catch(e){}}
document.addEventListener('visibilitychange',function(){
if(document.hidden){if(since){shown+=Date.now()-since;since=0;}send();}else{since=Date.now();}});
window.addEventListener('pagehide',send);
setInterval(function(){if(!document.hidden)send();},${BEACON_EVERY_MS});
})();`;
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
