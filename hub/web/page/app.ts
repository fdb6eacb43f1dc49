// The stage manager's page: renders what the hub sends and sends the operator's controls back.
// Plain DOM and textContent only (show text is never parsed as HTML). Nothing of the control
// surface shows before log-in; a viewer sees the stage and no controls.
import type { ServerMessageT, ShowInfoT, NodeViewT, ShowViewT, SettingsViewT, CurateItemT, LogEntryT, RoleT } from '../page-protocol.ts';
import type { TranscriptLineT } from '../../../protocol/schemas.ts';
import { connect, type LinkStatus } from './connection.ts';
import { logIn, logOut, loginNoteFromAddress } from './login.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const button = (id: string) => $<HTMLButtonElement>(id);
const select = (id: string) => $<HTMLSelectElement>(id);
const checkbox = (id: string) => $<HTMLInputElement>(id);

const STATE_LABEL: Record<string, string> = {
  unknown: 'offline', init: 'online (no hub yet)', ready: 'online', armed: 'armed',
  estopped: 'e-stopped', fault: 'fault', lost: 'lost',
};

const st: {
  show: ShowInfoT | null;
  role: RoleT | null;
  nodes: Map<string, NodeViewT>;
  showState: ShowViewT | null;
  telemetry: Record<string, Record<string, { value: number; unit: string }>>;
  latency: Record<string, number>;
  speaking: Map<string, { line: TranscriptLineT; until: number }>;
  settings: SettingsViewT;
  curate: Map<string, { item: CurateItemT; until: number }>;
} = {
  show: null,
  role: null,
  nodes: new Map(),
  showState: null,
  telemetry: {},
  latency: {},
  speaking: new Map(),
  settings: { showMode: false, curator: false, nextSpeaker: null },
  curate: new Map(),
};

// ---- small DOM helpers -------------------------------------------------------------------
type Attrs = Record<string, string | boolean | ((e: Event) => unknown)>;
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Node | string | null | undefined>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = String(v);
    else if (k.startsWith('data-')) e.setAttribute(k, String(v));
    else (e as unknown as Record<string, unknown>)[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}
const nameOf = (character: string | null) => st.show?.cast.find((c) => c.id === character)?.name ?? character ?? '';
const castOfNode = (node: string) => st.show?.cast.find((c) => c.node === node);
const time = (t: number) => new Date(t).toLocaleTimeString([], { hour12: false });

let messageTimer: ReturnType<typeof setTimeout> | undefined;
function say(text: string, ok: boolean): void {
  const m = $('message');
  m.textContent = text;
  m.className = ok ? 'ok' : 'bad';
  m.hidden = false;
  clearTimeout(messageTimer);
  messageTimer = setTimeout(() => { m.hidden = true; }, ok ? 4000 : 9000);
}

// ---- rendering -----------------------------------------------------------------------------
function renderShow(): void {
  if (!st.show) return;
  $('show-title').textContent = st.show.title;
  document.title = `${st.show.title} — Kuroko`;
  const sel = select('scene-select');
  sel.replaceChildren(...st.show.scenes.map((s) => el('option', { value: s.id, textContent: `${s.id}${s.title ? ` — ${s.title}` : ''}` })));
  const ns = $('next-speaker');
  ns.replaceChildren(el('option', { value: '', textContent: '(the ensemble decides)' }),
    ...st.show.cast.map((c) => el('option', { value: c.id, textContent: c.name })));
}

function renderNodes(): void {
  const box = $('nodes');
  const cards = [...st.nodes.values()].map((n) => {
    const c = castOfNode(n.id);
    const sp = c && st.speaking.get(c.id);
    const tel = st.telemetry[n.id] ?? {};
    const sensors = Object.entries(tel).filter(([k]) => !k.startsWith('metrics-')).map(([k, v]) => `${k} ${Number(v.value).toFixed(v.unit === 'C' ? 1 : 0)} ${v.unit}`).join(' · ');
    const lat = st.latency[n.id];
    const facts = [
      lat !== undefined ? `ack ${lat.toFixed(0)} ms` : null,
      n.rssBytes ? `${(n.rssBytes / 1048576).toFixed(0)} MB` : null,
      n.hardware,
    ].filter((x): x is string => !!x).join(' · ');
    return el('article', { class: `node state-${n.state}${sp ? ' speaking' : ''}`, 'data-node': n.id, 'data-state': n.state },
      el('header', {},
        el('span', { class: 'who', textContent: c ? c.name : n.id }),
        el('span', { class: 'state', textContent: STATE_LABEL[n.state] ?? n.state })),
      el('div', { class: 'sub muted', textContent: `node ${n.id}${n.reason && n.state !== 'ready' && n.state !== 'armed' ? ` — ${n.reason}` : ''}` }),
      sp ? el('div', { class: 'line', textContent: `“${sp.line.text}”` }) : null,
      sp && sp.line.emotion ? el('div', { class: 'emotion', textContent: sp.line.emotion }) : null,
      sensors ? el('div', { class: 'sensors', textContent: sensors }) : null,
      facts ? el('div', { class: 'facts muted', textContent: facts }) : null);
  });
  box.replaceChildren(...cards);
}

function renderNow(): void {
  const now = [...st.speaking.values()].sort((a, b) => b.until - a.until)[0];
  const box = $('now-line');
  if (!now) { box.replaceChildren(el('span', { class: 'muted', textContent: 'Silence.' })); return; }
  box.replaceChildren(...[
    el('span', { class: 'speaker', textContent: nameOf(now.line.character) }),
    now.line.emotion ? el('span', { class: 'emotion', textContent: ` (${now.line.emotion})` }) : null,
    el('div', { class: 'text', textContent: now.line.text })].filter((x): x is HTMLElement => !!x));
}

function renderShowState(): void {
  const s = st.showState;
  if (!s || !st.show) return;
  const scene = st.show.scenes.find((x) => x.id === s.scene);
  $('cue-scene').textContent = scene ? `— ${scene.id}${scene.title ? `: ${scene.title}` : ''}` : '— no scene started';
  const list = $('cue-list');
  list.replaceChildren(...(scene?.cues ?? []).map((q) => {
    const what = q.kind === 'line' ? `${nameOf(q.character)}: “${q.text}”` : `${q.kind}${q.character ? ` · ${nameOf(q.character)}` : ''}`;
    const cls = [q.id === s.standby ? 'standby' : '', s.running.includes(q.id) ? 'running' : ''].join(' ');
    return el('li', { class: cls, 'data-cue': q.id },
      el('span', { class: 'cue-id', textContent: q.id }),
      el('span', { class: 'cue-what', textContent: what ?? '' }),
      q.continue !== 'none' ? el('span', { class: 'cue-cont muted', textContent: q.continue === 'auto-follow' ? '↓ follow' : '↓ continue' }) : null,
      q.notes ? el('div', { class: 'cue-notes', textContent: q.notes }) : null);
  }));
  const standby = scene?.cues.find((q) => q.id === s.standby);
  $('standby-cue').textContent = standby ? `${standby.id} — ${standby.kind === 'line' ? `${nameOf(standby.character)}: “${standby.text}”` : standby.kind}` : (scene ? 'end of scene' : '—');
  $('standby-notes').textContent = s.standbyNotes ?? '';
  $('show-status').textContent = `${s.status}${s.estop ? ' · E-STOP ACTIVE' : ''}${s.armed ? ' · armed' : ' · not armed'}`;
  // When the page showed the armed state change (the browser test measures it against the hub's event).
  if (document.body.dataset.armed !== String(s.armed)) {
    document.body.dataset.armed = String(s.armed);
    document.body.dataset.armedAt = String(Date.now());
  }
  document.body.classList.toggle('estop-active', !!s.estop);
  $('next-scene').textContent = s.nextScene ? `Next scene: ${s.nextScene} ▶` : 'No next scene';
  button('next-scene').disabled = !s.nextScene;
  if (s.scene) select('scene-select').value = s.nextScene ?? s.scene;
}

function addTranscript(line: TranscriptLineT): void {
  const list = $('transcript');
  list.append(el('li', {},
    el('span', { class: 'speaker', textContent: nameOf(line.character) }),
    line.emotion ? el('span', { class: 'muted', textContent: ` (${line.emotion})` }) : null,
    el('span', { textContent: ` ${line.text}` })));
  while (list.children.length > 300) list.firstElementChild!.remove();
  list.scrollTop = list.scrollHeight;
}

function addLog(e: LogEntryT): void {
  const list = $('log');
  list.append(el('li', { class: `lvl-${e.level}` },
    el('span', { class: 'muted', textContent: `${time(e.t)} ` }),
    el('span', { class: 'src', textContent: `${e.source} ` }),
    el('span', { textContent: e.text })));
  while (list.children.length > 300) list.firstElementChild!.remove();
  list.scrollTop = list.scrollHeight;
}

function renderSettings(): void {
  const s = st.settings;
  checkbox('show-mode').checked = s.showMode;
  checkbox('curator-toggle').checked = s.curator;
  document.body.classList.toggle('show-mode', s.showMode);
  // Show mode locks the setup controls; GO, stop, E-STOP, release stay.
  for (const e of document.querySelectorAll<HTMLButtonElement | HTMLSelectElement | HTMLInputElement>('.setup')) e.disabled = s.showMode;
  select('next-speaker').value = s.nextSpeaker ?? '';
}

// Each waiting line is built once; the countdown tick only updates its bar and seconds, so a
// press on Approve is never lost to a re-render.
function renderCurate(): void {
  const box = $('curate-list');
  $('curator').hidden = st.curate.size === 0 || st.role !== 'operator';
  for (const child of [...box.children] as HTMLElement[]) if (!st.curate.has(child.dataset.curate ?? '')) child.remove();
  for (const { item } of st.curate.values()) {
    if (box.querySelector(`[data-curate="${CSS.escape(item.id)}"]`)) continue;
    const decide = (decision: 'approved' | 'vetoed' | 'regenerate') => async () => {
      const r = await link.send({ type: 'curate', id: item.id, decision });
      say(r.message, r.ok);
    };
    box.append(el('div', { class: 'curate', 'data-curate': item.id },
      el('div', { class: 'speaker', textContent: `${nameOf(item.character)}${item.emotion ? ` (${item.emotion})` : ''}` }),
      el('div', { class: 'text', textContent: item.text }),
      el('div', { class: 'countdown' }, el('div', { class: 'bar' })),
      el('div', { class: 'secs muted' }),
      el('div', { class: 'row' },
        el('button', { class: 'approve', textContent: 'Approve', onclick: decide('approved') }),
        el('button', { class: 'veto', textContent: 'Veto', onclick: decide('vetoed') }),
        el('button', { class: 'regen', textContent: 'Regenerate', onclick: decide('regenerate') }))));
  }
  tickCurate();
}

function tickCurate(): void {
  const now = Date.now();
  for (const { item, until } of st.curate.values()) {
    const box = $('curate-list').querySelector(`[data-curate="${CSS.escape(item.id)}"]`);
    if (!box) continue;
    const left = Math.max(0, until - now);
    box.querySelector<HTMLElement>('.bar')!.style.width = `${item.deadlineMs ? (100 * left) / item.deadlineMs : 0}%`;
    box.querySelector('.secs')!.textContent = `auto-approve in ${Math.ceil(left / 1000)} s`;
  }
}

// Speaking lines and curator countdowns run out on the page's own clock.
setInterval(() => {
  const now = Date.now();
  let changed = false;
  for (const [k, v] of st.speaking) if (v.until <= now) { st.speaking.delete(k); changed = true; }
  if (changed) { renderNodes(); renderNow(); }
  if (st.curate.size) tickCurate();
}, 250);

// ---- messages from the hub ----------------------------------------------------------------
function onMessage(m: ServerMessageT): void {
  switch (m.type) {
    case 'hello': {
      st.show = m.show;
      st.role = m.role;
      const s = m.state;
      st.nodes = new Map(s.nodes.map((n) => [n.id, n]));
      st.showState = s.show;
      st.telemetry = s.telemetry;
      st.latency = s.latency;
      st.settings = s.settings;
      st.speaking = new Map(s.speaking.map((x) => [x.line.character, { line: x.line, until: Date.now() + x.remainingMs }]));
      st.curate = new Map(s.curate.map((c) => [c.id, { item: c, until: Date.now() + c.remainingMs }]));
      $('role').textContent = m.role === 'operator' ? 'operator' : 'read-only view';
      $('role').className = `badge role-${m.role}`;
      // The control surface exists for an operator only; a viewer watches.
      document.body.classList.toggle('viewer', m.role !== 'operator');
      for (const e of document.querySelectorAll<HTMLElement>('.operator-only')) e.hidden = m.role !== 'operator';
      $('login').hidden = true;
      $('refused').hidden = true;
      $('app').hidden = false;
      $('logout').hidden = false;
      renderShow();
      $('curate-list').replaceChildren();
      $('transcript').replaceChildren();
      s.transcript.forEach(addTranscript);
      $('log').replaceChildren();
      s.log.forEach(addLog);
      renderNodes(); renderNow(); renderShowState(); renderSettings(); renderCurate();
      return;
    }
    case 'refused':
      showLogin(m.message);
      return;
    case 'node': st.nodes.set(m.node.id, m.node); return renderNodes();
    case 'show': st.showState = m.show; return renderShowState();
    case 'line':
      st.speaking.set(m.line.character, { line: m.line, until: Date.now() + m.line.durationMs });
      addTranscript(m.line);
      renderNodes(); renderNow();
      return;
    case 'telemetry':
      for (const t of m.items) (st.telemetry[t.node] ??= {})[t.sensor] = { value: t.value, unit: t.unit };
      return renderNodes();
    case 'latency': st.latency[m.node] = m.ms; return renderNodes();
    case 'log': return addLog(m.entry);
    case 'settings': st.settings = m.settings; return renderSettings();
    case 'curate': st.curate.set(m.item.id, { item: m.item, until: Date.now() + m.item.remainingMs }); return renderCurate();
    case 'curate-done': st.curate.delete(m.id); return renderCurate();
    case 'reply': return; // answered through link.send's promise
  }
}

/** Before log-in (or after a refusal) only the log-in form shows: no control surface at all. */
function showLogin(reason?: string | null): void {
  $('app').hidden = true;
  $('logout').hidden = true;
  for (const e of document.querySelectorAll<HTMLElement>('.operator-only')) e.hidden = true;
  $('login').hidden = false;
  if (reason) { $('refused').textContent = reason; $('refused').hidden = false; }
  $<HTMLInputElement>('login-token').focus();
}

const link = connect({
  onMessage,
  onStatus: (s: LinkStatus) => {
    $('conn').textContent = s;
    $('conn').className = `badge conn-${s}`;
    // Say it loudly: while the link is down, no control reaches the hub.
    $('offline').hidden = s !== 'reconnecting';
  },
});

const note = loginNoteFromAddress();
if (note) { $('refused').textContent = note; $('refused').hidden = false; }

$<HTMLFormElement>('login-form').onsubmit = async (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('login-token');
  const r = await logIn(input.value);
  input.value = '';
  if (!r.ok) { $('login-error').textContent = r.message; return; }
  $('login-error').textContent = '';
  link.reopen();
};
button('logout').onclick = async () => {
  await logOut();
  link.reopen();
};

// ---- controls ---------------------------------------------------------------------------------
type Command = Extract<Parameters<typeof link.send>[0], { type: 'command' }>;
async function command(command: Command['command'], args?: Command['args']) {
  const r = await link.send({ type: 'command', command, ...(args ? { args } : {}) });
  say(r.message, r.ok);
  return r;
}

// GO: ignored while one is in flight, and a bounce within 300 ms is the same press.
let goInFlight = false;
let lastGo = 0;
async function go(): Promise<void> {
  const now = Date.now();
  if (goInFlight || now - lastGo < 300) return;
  goInFlight = true;
  lastGo = now;
  $('go').classList.add('in-flight');
  try { await command('go'); } finally {
    goInFlight = false;
    $('go').classList.remove('in-flight');
  }
}

button('go').onclick = go;
button('stop').onclick = () => command('stop');
button('arm').onclick = () => command('arm');
button('disarm').onclick = () => command('disarm');
button('estop').onclick = () => command('estop');
button('release').onclick = () => command('release');
button('scene-start').onclick = () => command('scene/start', { scene: select('scene-select').value });
button('next-scene').onclick = () => st.showState?.nextScene && command('scene/start', { scene: st.showState.nextScene });
button('next-speaker-set').onclick = () => command('next-speaker', { character: select('next-speaker').value });
checkbox('curator-toggle').onchange = async (e) => {
  const target = e.target as HTMLInputElement;
  const want = target.checked;
  const r = await link.send({ type: 'settings', curator: want });
  say(r.message, r.ok);
  if (!r.ok) target.checked = !want;
};
checkbox('show-mode').onchange = async (e) => {
  const target = e.target as HTMLInputElement;
  const want = target.checked;
  if (!want && !confirm('Leave show mode? Setup controls will be unlocked.')) { target.checked = true; return; }
  const r = await link.send({ type: 'settings', showMode: want });
  say(r.message, r.ok);
  if (!r.ok) target.checked = !want;
};

document.addEventListener('keydown', (e) => {
  if (st.role !== 'operator') return;
  const t = e.target;
  const typing = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
  if (e.key === ' ' && !typing && !e.repeat) {
    e.preventDefault();
    void go();
  } else if (e.key === 'Escape') {
    e.preventDefault();
    void command('stop');
  }
});
// A focused button would also "click" on space: keep space for GO only.
document.addEventListener('keyup', (e) => { if (e.key === ' ' && e.target instanceof HTMLButtonElement) e.preventDefault(); });
