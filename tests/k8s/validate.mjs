// Validates rendered deploy/k8s objects (kubectl kustomize output):
//   node validate.mjs SCHEMA_DIR TOPOLOGY_BIN RENDERED.yaml
// 1. every object has a schema and passes it: the built-in kinds through
//    npm's kubernetes-models, the operators' kinds (RabbitMQ, KEDA) through
//    tests/k8s/schemas, closed where their CRDs are, so a typo fails;
// 2. warren's own rules: every warren container runs non-root on a
//    read-only root filesystem, with requests, limits and both probes, and
//    reads its secrets through WARREN_<KEY>_FILE, never a plain value;
// 3. each warren ConfigMap parses as the binaries parse it (TOPOLOGY_BIN
//    loads it), and the Queue/Exchange/Binding objects are exactly the
//    topology the code declares (TOPOLOGY_BIN prints it, with the change
//    stream's retention from the catalog's ConfigMap);
// 4. the probes reach the listeners the configs set up (port, address,
//    paths), and every Deployment of warren's has a PodDisruptionBudget.
// Prints every problem, exits 1 if there is any.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parseAllDocuments } from 'yaml';

const [schemaDir, topologyBin, rendered] = process.argv.slice(2);
const problems = [];
const fail = (obj, msg) => problems.push(`${obj.kind}/${obj.metadata?.name}: ${msg}`);

// Built-in kinds: module path of kubernetes-models, by apiVersion and kind.
const builtin = {
  'v1/Namespace': 'v1/Namespace', 'v1/ConfigMap': 'v1/ConfigMap', 'v1/Service': 'v1/Service',
  'v1/PersistentVolumeClaim': 'v1/PersistentVolumeClaim', 'v1/Secret': 'v1/Secret',
  'apps/v1/Deployment': 'apps/v1/Deployment', 'apps/v1/StatefulSet': 'apps/v1/StatefulSet',
  'autoscaling/v2/HorizontalPodAutoscaler': 'autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'policy/v1/PodDisruptionBudget',
};
const crd = {
  'rabbitmq.com/v1beta1/RabbitmqCluster': 'rabbitmqcluster', 'rabbitmq.com/v1beta1/Queue': 'queue',
  'rabbitmq.com/v1beta1/Exchange': 'exchange', 'rabbitmq.com/v1beta1/Binding': 'binding',
  'rabbitmq.com/v1beta1/Policy': 'policy', 'keda.sh/v1alpha1/ScaledObject': 'scaledobject',
  'keda.sh/v1alpha1/TriggerAuthentication': 'triggerauthentication',
};
const ajv = new Ajv({ allErrors: true, strict: true });
const schema = (name) => ajv.compile(JSON.parse(readFileSync(join(schemaDir, `${name}.schema.json`), 'utf8')));
const crdCheck = Object.fromEntries(Object.entries(crd).map(([k, v]) => [k, schema(v)]));
const rabbitTrigger = schema('keda-rabbitmq-metadata');

const docs = parseAllDocuments(readFileSync(rendered, 'utf8'));
const objs = [];
for (const d of docs) {
  if (d.errors.length) problems.push(`YAML: ${d.errors[0].message}`);
  else if (d.contents !== null) objs.push(d.toJS());
}
if (objs.length === 0) problems.push('no object rendered');

async function validateSchemas(obj) {
  const key = `${obj.apiVersion}/${obj.kind}`;
  if (builtin[key]) {
    const mod = await import(`kubernetes-models/${builtin[key]}`);
    try {
      new mod[obj.kind](obj).validate();
    } catch (e) {
      fail(obj, e.message);
    }
  } else if (crdCheck[key]) {
    if (!crdCheck[key](obj)) fail(obj, ajv.errorsText(crdCheck[key].errors));
    for (const t of obj.kind === 'ScaledObject' ? obj.spec?.triggers ?? [] : []) {
      if (t.type === 'rabbitmq' && !rabbitTrigger(t.metadata))
        fail(obj, `rabbitmq trigger: ${ajv.errorsText(rabbitTrigger.errors)}`);
    }
  } else {
    fail(obj, `no schema for ${key}`);
  }
}

// Keys whose values are secrets: set only as WARREN_<KEY>_FILE.
const secretKeys = ['AMQP_URL', 'API_KEYS', 'CURSOR_SECRET', 'MONGO_URI'];
function checkPods(obj) {
  const pod = obj.spec?.template?.spec;
  if (!pod) return;
  if (pod.securityContext?.runAsNonRoot !== true) fail(obj, 'pod without runAsNonRoot: true');
  for (const c of pod.containers) {
    const sc = c.securityContext ?? {};
    if (sc.readOnlyRootFilesystem !== true) fail(obj, `${c.name}: root filesystem not read-only`);
    if (sc.allowPrivilegeEscalation !== false) fail(obj, `${c.name}: privilege escalation allowed`);
    for (const r of ['requests', 'limits'])
      for (const what of ['cpu', 'memory'])
        if (!c.resources?.[r]?.[what]) fail(obj, `${c.name}: no ${r}.${what}`);
    if (!c.livenessProbe || !c.readinessProbe) fail(obj, `${c.name}: a probe is missing`);
    if (!/warren-/.test(c.image)) continue;
    for (const e of c.env ?? [])
      if (secretKeys.some((k) => e.name === `WARREN_${k}`))
        fail(obj, `${c.name}: ${e.name} set directly; secrets go through ${e.name}_FILE`);
    const mounts = (c.volumeMounts ?? []).map((m) => m.mountPath);
    for (const e of (c.env ?? []).filter((x) => x.name.endsWith('_FILE')))
      if (!mounts.some((m) => e.value.startsWith(`${m}/`))) fail(obj, `${e.name}: ${e.value} is on no volume`);
    const ports = new Set((c.ports ?? []).map((p) => p.name));
    for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe])
      if (p?.httpGet && !ports.has(p.httpGet.port)) fail(obj, `${c.name}: probe on unnamed port ${p.httpGet.port}`);
  }
}

// Normalised as TOPOLOGY_BIN prints them: {"kind","name"|"destination",...}.
function fromK8s(obj) {
  const s = obj.spec;
  if (s.vhost !== undefined && s.vhost !== '/') fail(obj, 'warren uses the vhost of its AMQP_URL; keep /');
  if (obj.kind === 'Exchange') {
    if (s.durable !== true || s.autoDelete === true) fail(obj, 'warren declares it durable, not auto-delete');
    return { kind: 'exchange', name: s.name, type: s.type ?? 'direct', arguments: s.arguments ?? {} };
  }
  if (obj.kind === 'Binding') {
    if (s.destinationType !== 'queue') fail(obj, 'warren binds queues only');
    return { kind: 'binding', destination: s.destination, source: s.source, key: s.routingKey ?? '', arguments: s.arguments ?? {} };
  }
  if (s.durable !== true || s.autoDelete === true) fail(obj, 'warren declares it durable, not auto-delete');
  const args = { ...(s.arguments ?? {}) };
  if (s.type !== undefined) args['x-queue-type'] = s.type;
  return { kind: 'queue', name: s.name, arguments: args };
}
const canon = (v) =>
  Array.isArray(v) ? v.map(canon)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v;
const line = (v) => JSON.stringify(canon(v));

function checkConfigsAndTopology() {
  const dir = mkdtempSync(join(tmpdir(), 'warren-k8s-'));
  try {
    const cfg = {};
    for (const o of objs.filter((x) => x.kind === 'ConfigMap' && /^warren-.*-config/.test(x.metadata.name))) {
      const name = o.metadata.name.replace(/^warren-/, '').replace(/-config.*$/, '');
      cfg[name] = join(dir, `${name}.cfg`);
      writeFileSync(cfg[name], o.data['config.cfg']);
    }
    for (const want of ['edge', 'catalog', 'auditlog']) if (!cfg[want]) problems.push(`no ConfigMap warren-${want}-config`);
    if (problems.length) return;
    const run = (cfgFile, ...services) => {
      try {
        return execFileSync(topologyBin, [cfgFile, ...services], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        problems.push(`${cfgFile}: ${e.stderr || e.message}`);
        return '';
      }
    };
    run(cfg.edge, 'catalog');
    run(cfg.auditlog, 'auditlog');
    // What the processes declare: the catalog with its change stream (its
    // retention from the catalog's ConfigMap), and the auditlog service.
    const code = new Set(run(cfg.catalog, 'catalog+changes', 'auditlog').split('\n').filter(Boolean)
      .map((l) => line(JSON.parse(l))));
    const k8s = new Set(objs.filter((o) => ['Queue', 'Exchange', 'Binding'].includes(o.kind))
      .map((o) => line(fromK8s(o))));
    for (const c of code) if (!k8s.has(c)) problems.push(`topology: the code declares ${c}; deploy/k8s has no such object`);
    for (const k of k8s) if (!code.has(k)) problems.push(`topology: deploy/k8s declares ${k}; the code does not`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A KEY = value line of a warren config (Python literal: 'text' or a number).
function cfgValue(text, key) {
  const m = new RegExp(`^${key}\\s*=\\s*(?:'([^']*)'|(\\S+))\\s*$`, 'm').exec(text ?? '');
  return m ? (m[1] ?? m[2]) : undefined;
}

// The probes reach what the process listens on: each warren container's
// probe port is the port its config (ConfigMap, then WARREN_* env) gives
// the listener, on every address, with the paths the README names; the
// scrape annotation names that port; and each Deployment of warren's has a
// PodDisruptionBudget selecting its pods (Redis, one replica, has none: it
// would block every node's drain).
const listeners = {
  admin: { host: 'ADMIN_HOST', port: 'ADMIN_PORT', live: '/livez' },
  http: { host: 'HTTP_HOST', port: 'HTTP_PORT', live: '/healthz' },
};
function checkProbeTargets(obj) {
  const pod = obj.spec?.template?.spec;
  if (!pod || !['Deployment', 'StatefulSet'].includes(obj.kind)) return;
  for (const c of pod.containers.filter((x) => /warren-/.test(x.image))) {
    const volume = (pod.volumes ?? []).find((v) => v.name === 'config');
    const map = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume?.configMap?.name);
    const value = (key) => (c.env ?? []).find((e) => e.name === `WARREN_${key}`)?.value
      ?? cfgValue(map?.data?.['config.cfg'], key);
    for (const port of c.ports ?? []) {
      const l = listeners[port.name];
      if (!l) continue;
      if (String(value(l.port)) !== String(port.containerPort))
        fail(obj, `${c.name}: port ${port.name} is ${port.containerPort}, its config's ${l.port} ${value(l.port)}`);
      if (!['0.0.0.0', '::'].includes(value(l.host)))
        fail(obj, `${c.name}: ${l.host} ${value(l.host)}: the kubelet's probes cannot reach it`);
      const paths = { livenessProbe: l.live, startupProbe: l.live, readinessProbe: '/readyz' };
      for (const [probe, path] of Object.entries(paths))
        if (c[probe]?.httpGet?.port === port.name && c[probe].httpGet.path !== path)
          fail(obj, `${c.name}: ${probe} asks ${c[probe].httpGet.path}, not ${path}`);
      const scrape = obj.spec.template.metadata?.annotations?.['prometheus.io/port'];
      if (scrape !== undefined && port.name === 'admin' && scrape !== String(port.containerPort))
        fail(obj, `${c.name}: prometheus.io/port ${scrape}, the admin port ${port.containerPort}`);
    }
  }
  const labels = obj.spec.template.metadata?.labels ?? {};
  const pdb = objs.find((o) => o.kind === 'PodDisruptionBudget' &&
    Object.entries(o.spec?.selector?.matchLabels ?? { none: true }).every(([k, v]) => labels[k] === v));
  const warren = pod.containers.some((x) => /warren-/.test(x.image));
  if (obj.kind === 'Deployment' && warren && !pdb) fail(obj, 'no PodDisruptionBudget selects its pods');
}

for (const o of objs) {
  await validateSchemas(o);
  checkPods(o);
  checkProbeTargets(o);
}
checkConfigsAndTopology();
for (const p of problems) console.error(`${rendered}: ${p}`);
if (problems.length) process.exit(1);
console.log(`${rendered}: ${objs.length} objects valid; topology matches the code`);
