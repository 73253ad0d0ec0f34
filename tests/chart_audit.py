"""What a person sees of the charts on a page, read from the drawn SVG: legend labels cut by Vega
(an ellipsis) or by the chart's edge, and series colours with less than 3:1 contrast against the
page's background (WCAG 2.1, 1.4.11 non-text contrast)."""
from __future__ import annotations

AUDIT = r"""() => {
  const rgb = text => {
    const m = (text || '').match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/);
    if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
    const h = (text || '').match(/^#([0-9a-f]{6})$/i);
    return h ? [0, 2, 4].map(i => parseInt(h[1].substr(i, 2), 16)).concat([1]) : null;
  };
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const opacity = el => {
    let o = 1;
    for (let e = el; e && e.tagName !== 'svg'; e = e.parentElement) {
      const s = getComputedStyle(e);
      o *= parseFloat(s.opacity || '1');
    }
    return o;
  };
  const bg = rgb(getComputedStyle(document.querySelector('.stApp')).backgroundColor);
  const out = [];
  document.querySelectorAll('[data-testid="stVegaLiteChart"]').forEach((chart, index) => {
    const svg = chart.querySelector('svg.marks');
    if (!svg) { out.push({chart: index, problem: 'not drawn as SVG'}); return; }
    const title = Array.from(svg.querySelectorAll('.role-title-text text')).map(t => t.textContent).join(' ');
    const box = chart.getBoundingClientRect();
    const labels = [];
    svg.querySelectorAll('.role-legend-label text, .role-legend-title text').forEach(t => {
      const r = t.getBoundingClientRect();
      labels.push(t.textContent);
      if (t.textContent.includes('\u2026')) out.push({chart: index, title, problem: 'legend label cut', label: t.textContent});
      else if (r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1))
        out.push({chart: index, title, problem: 'legend label outside the chart', label: t.textContent});
    });
    const series = [];
    svg.querySelectorAll('.mark-line.role-mark path, .mark-rule.role-mark line, .mark-symbol.role-mark path, ' +
                         '.role-legend-symbol path').forEach(el => {
      const s = getComputedStyle(el);
      const filled = s.fill && s.fill !== 'none' && s.fill !== 'transparent';
      const paint = rgb(filled && !el.closest('.mark-line, .mark-rule') ? s.fill : s.stroke);
      const alpha = opacity(el) * parseFloat(filled ? s.fillOpacity : s.strokeOpacity);
      if (!paint || paint[3] === 0 || alpha < 0.5) return;
      const ratio = contrast(paint, bg);
      series.push(paint.slice(0, 3).join(','));
      if (ratio < 3) out.push({chart: index, title, problem: 'low contrast', colour: paint.slice(0, 3).join(','),
                               contrast: Math.round(ratio * 100) / 100});
    });
    out.push({chart: index, title, labels, colours: Array.from(new Set(series))});
  });
  return out;
}"""


def audit(page) -> tuple[list[dict], list[dict]]:
    """(problems, charts): each problem names its chart; each chart lists its legend labels and the
    distinct series colours drawn."""
    found = page.evaluate(AUDIT)
    return [f for f in found if "problem" in f], [f for f in found if "problem" not in f]
