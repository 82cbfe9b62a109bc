/**
 * What a user reads in an element Veil painted: its text, with each status badge's words (drawn by
 * the stylesheet from `data-veil-label`, so not part of textContent) where the badge is.
 */
export function shownText(el: Node): string {
  let out = '';
  for (const n of el.childNodes) {
    if (n.nodeType === 3) out += n.textContent ?? '';
    else if (n.nodeType === 1) {
      const label = (n as Element).getAttribute('data-veil-label');
      out += shownText(n) + (label ?? '');
    }
  }
  return out;
}
