// The benchmark's chart: replicas over time against offered load, one panel per policy shown. Builds SVG text
// (deterministic: fixed precision, no timestamps); the caller writes it.
import type { Bounds } from './oracle.js';
import type { PolicyRow } from './report.js';
import type { SeriesPoint } from './simulator.js';

export interface ChartPanel {
  row: PolicyRow;
  series: readonly SeriesPoint[];
  note?: string;
}

const WIDTH = 960;
const PANEL_HEIGHT = 170;
const MARGIN = { left: 48, right: 16, top: 26, bottom: 22 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f = (x: number): string => (Math.round(x * 10) / 10).toString();

/**
 * One panel per policy: offered work in replicas (grey area: work arriving per minute / 60 s), the oracle's R*
 * (dashed), replicas requested (blue, the Deployment's spec.replicas) and Ready (green).
 */
export function buildReplicaChart(title: string, bounds: Bounds, panels: readonly ChartPanel[]): string {
  const horizon = bounds.horizonSeconds;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const height = 40 + panels.length * PANEL_HEIGHT + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, i) => {
    const top = 40 + i * PANEL_HEIGHT;
    // Each panel has its own scale: a baseline that runs to the quota must not flatten the others.
    const peak = Math.max(4, ...bounds.replicas, ...panel.series.map((s) => Math.max(s.requested, s.ready)));
    const yMax = Math.ceil(peak / 4) * 4;
    const x = (t: number): number => MARGIN.left + (t / horizon) * plotW;
    const y = (r: number): number => top + MARGIN.top + plotH - (r / yMax) * plotH;
    out.push(`<g>`);
    out.push(`<text x="${MARGIN.left}" y="${top + 16}" font-size="12" font-weight="bold">${esc(panel.row.policy)}</text>`);
    const wait = panel.row.waitOver5sPct === null ? '-' : `${panel.row.waitOver5sPct.toFixed(2)}%`;
    out.push(`<text x="${MARGIN.left + 110}" y="${top + 16}">${esc(`${panel.row.gpuHours.toFixed(2)} GPU-h, ${panel.row.ratioToOracle.toFixed(3)}x oracle, ${wait} of requests wait > 5 s${panel.note ? `  (${panel.note})` : ''}`)}</text>`);
    for (let r = 0; r <= yMax; r += yMax / 4) {
      out.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${f(y(r))}" y2="${f(y(r))}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${MARGIN.left - 6}" y="${f(y(r) + 4)}" text-anchor="end" fill="#666">${r}</text>`);
    }
    // Offered work as an area, one step per bucket.
    const Δ = horizon / Math.max(1, bounds.offered.length);
    const area = [`M${f(x(0))},${f(y(0))}`];
    bounds.offered.forEach((w, b) => area.push(`L${f(x(b * Δ))},${f(y(w))}`, `L${f(x((b + 1) * Δ))},${f(y(w))}`));
    area.push(`L${f(x(horizon))},${f(y(0))}Z`);
    out.push(`<path d="${area.join('')}" fill="#d9d9d9" stroke="none"/>`);
    const rstar = bounds.replicas.map((r, b) => `${b === 0 ? 'M' : 'L'}${f(x(b * Δ))},${f(y(r))}L${f(x((b + 1) * Δ))},${f(y(r))}`).join('');
    out.push(`<path d="${rstar}" fill="none" stroke="#555" stroke-dasharray="4 3"/>`);
    const line = (pick: (s: SeriesPoint) => number, color: string): void => {
      const d = panel.series.map((s, k) => {
        const prev = panel.series[k - 1];
        return k === 0 ? `M${f(x(s.t))},${f(y(pick(s)))}` : `L${f(x(s.t))},${f(y(prev ? pick(prev) : pick(s)))}L${f(x(s.t))},${f(y(pick(s)))}`;
      }).join('');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
    };
    line((s) => s.ready, '#2ca02c');
    line((s) => s.requested, '#1f77b4');
    for (let m = 0; m <= horizon / 60; m += 10) {
      out.push(`<text x="${f(x(m * 60))}" y="${top + PANEL_HEIGHT - 6}" text-anchor="middle" fill="#666">${m}</text>`);
    }
    out.push(`</g>`);
  });
  const legendY = height - 12;
  const legend: [string, string, string][] = [['#d9d9d9', 'area', 'offered work (replicas at full batch)'], ['#555', 'dash', 'oracle R* (rho 0.85, 60 s buckets)'], ['#1f77b4', 'line', 'replicas requested'], ['#2ca02c', 'line', 'replicas Ready']];
  let lx = MARGIN.left;
  for (const [color, kind, label] of legend) {
    if (kind === 'area') out.push(`<rect x="${lx}" y="${legendY - 9}" width="14" height="9" fill="${color}"/>`);
    else out.push(`<line x1="${lx}" x2="${lx + 14}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${color}" stroke-width="2"${kind === 'dash' ? ' stroke-dasharray="4 3"' : ''}/>`);
    out.push(`<text x="${lx + 18}" y="${legendY}">${esc(label)}</text>`);
    lx += 40 + label.length * 6;
  }
  out.push(`<text x="${WIDTH - MARGIN.right}" y="${legendY}" text-anchor="end" fill="#666">minutes</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
