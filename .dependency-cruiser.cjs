/** Layer rules (STYLE.md §9): apps are entry points over libs; libs talk to each other through index.ts. */
module.exports = {
  forbidden: [
    { name: 'libs-not-apps', severity: 'error', comment: 'libraries never import an app', from: { path: '^libs/' }, to: { path: '^apps/' } },
    { name: 'api-not-worker', severity: 'error', comment: 'the API and the worker are separate processes', from: { path: '^apps/api/' }, to: { path: '^apps/worker/' } },
    { name: 'worker-not-api', severity: 'error', comment: 'the worker never touches HTTP or Socket.IO', from: { path: '^apps/worker/' }, to: { path: '^apps/api/' } },
    {
      name: 'apps-use-lib-index',
      severity: 'error',
      comment: 'apps import a library only through @app/<lib> (its index.ts)',
      from: { path: '^apps/' },
      to: { path: '^libs/[^/]+/src/', pathNot: '^libs/[^/]+/src/index\\.ts$' },
    },
    {
      name: 'libs-use-other-lib-index',
      severity: 'error',
      comment: 'a library reaches another one only through its index.ts',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/[^/]+/src/', pathNot: ['^libs/$1/', '^libs/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'testing-only-in-specs',
      severity: 'error',
      comment: 'libs/testing holds test helpers: only specs (not cruised here) and libs/testing itself may import it',
      from: { pathNot: '^libs/testing/' },
      to: { path: '^libs/testing/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
