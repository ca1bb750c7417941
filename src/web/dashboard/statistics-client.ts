/**
 * The statistics page's script (compiled by esbuild at start-up): draws the
 * chart with Chart.js, which the page loads before it from the app (its UMD
 * build sets `window.Chart`). Bars for notices, collected and expired per
 * period, a line for the SMS delivery rate on its own axis. The page's table
 * has the same numbers; without this script nothing is missing.
 */
interface ChartData {
  labels: string[];
  series: { key: 'notices' | 'collected' | 'expired'; label: string; values: number[] }[];
  rate: { label: string; values: (number | null)[] };
  axes: { count: string; rate: string };
}

interface ChartConstructor {
  new (canvas: HTMLCanvasElement, config: unknown): unknown;
}

/** Colours with a contrast of at least 3:1 against white, told apart by pattern too (the line is dashed). */
const COLOURS: Record<ChartData['series'][number]['key'], string> = { notices: '#0b3d91', collected: '#1f6f3f', expired: '#a4161a' };

function draw(): void {
  const canvas = document.getElementById('stats-chart');
  const Chart = (window as unknown as { Chart?: ChartConstructor }).Chart;
  if (!(canvas instanceof HTMLCanvasElement) || Chart === undefined) return;
  const data = JSON.parse(canvas.dataset.chart ?? '{}') as ChartData;
  new Chart(canvas, {
    data: {
      labels: data.labels,
      datasets: [
        ...data.series.map((s) => ({ type: 'bar', label: s.label, data: s.values, backgroundColor: COLOURS[s.key], yAxisID: 'count', order: 2 })),
        { type: 'line', label: data.rate.label, data: data.rate.values, borderColor: '#6a3d9a', backgroundColor: '#6a3d9a', borderDash: [6, 4], spanGaps: true, yAxisID: 'rate', order: 1 },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        count: { type: 'linear', position: 'left', beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: data.axes.count } },
        rate: { type: 'linear', position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: data.axes.rate } },
      },
    },
  });
  canvas.dataset.drawn = 'true';
}

draw();
