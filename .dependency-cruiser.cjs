// The layering rule of src/, checked by `make lint` (dependency-cruiser). Stated once, here:
//
//  1. Layers form a DAG in this order: a module may import its own layer and the layers before it, never one after
//     it. Type-only imports count (they are edges of the design even when the compiler erases them).
//  2. No import cycle between modules, type-only imports included.
//  3. Pure layers (the first group) perform no I/O: they import no I/O layer, no Node built-in, and no I/O package
//     (the Kubernetes client except its types, the logger, the metrics registry). A layer that has both keeps its
//     I/O in an `io/` folder (src/autoscaler/io/), which counts as an I/O layer of its own.
//  4. src/ imports nothing from test/ or bench/ (the harness and the benchmarks are not the product).
//
// Pure and I/O are told apart by path: the layer's folder, and `io/` below it.
/* eslint-disable no-undef */
const PURE = ['catalog', 'api', 'engines', 'sizing', 'metrics', 'render', 'status', 'autoscaler', 'models', 'cdk8s'];
const IO = ['telemetry', 'kube', 'controller', 'autoscaler/io', 'activator', 'cli'];
const LAYERS = [...PURE, ...IO];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** The path pattern of one layer's modules (a layer's io/ folder is not part of the layer). */
const layerPath = (layer) => `^src/${esc(layer)}/`;
const notIo = (layer) => (layer.endsWith('/io') ? undefined : `^src/${esc(layer)}/io/`);

const order = LAYERS.map((layer, i) => {
  const later = LAYERS.slice(i + 1);
  const from = { path: layerPath(layer), ...(notIo(layer) ? { pathNot: notIo(layer) } : {}) };
  // A later layer that lives inside this one's folder (autoscaler/io inside autoscaler) is matched by its own path.
  return {
    name: `layer-order:${layer}`,
    severity: 'error',
    comment: `${layer} may import only ${LAYERS.slice(0, i).join(', ') || 'nothing else in src'}: it comes before ${later.join(', ') || 'nothing'} in the layer order (.dependency-cruiser.cjs)`,
    from,
    to: { path: later.length > 0 ? `(${later.map(layerPath).join('|')})` : '^$' },
  };
}).filter((rule) => rule.to.path !== '^$');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...order,
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle (type-only imports count): move the shared types to the lower module.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'pure-no-io-layer',
      severity: 'error',
      comment: 'A pure layer imports an I/O layer: pass the data in instead (STYLE.md: pure core, I/O shell).',
      from: { path: `^src/(${PURE.map(esc).join('|')})/`, pathNot: '/io/' },
      to: { path: `(^src/(${IO.filter((l) => !l.includes('/')).map(esc).join('|')})/|/io/)` },
    },
    {
      name: 'pure-no-node-io',
      severity: 'error',
      comment: 'A pure layer imports a Node built-in: pure code computes, the I/O shell reads and writes.',
      from: { path: `^src/(${PURE.map(esc).join('|')})/`, pathNot: '/io/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'pure-no-io-package',
      severity: 'error',
      comment: 'A pure layer imports an I/O package (types of @kubernetes/client-node are allowed with `import type`).',
      from: { path: `^src/(${PURE.map(esc).join('|')})/`, pathNot: '/io/' },
      to: { path: 'node_modules/(@kubernetes/client-node|pino|prom-client)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'src-not-harness',
      severity: 'error',
      comment: 'The product imports the test harness or the benchmarks.',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'known-layer',
      severity: 'error',
      comment: 'A module of src/ outside every layer: add its folder to the layer order in .dependency-cruiser.cjs.',
      from: { path: '^src/', pathNot: `(${LAYERS.map(layerPath).join('|')})` },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|\\.test\\.ts$)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    moduleSystems: ['es6'],
  },
};
