// The operator console: a few pages drawn from /api/v1/admin/… with the session cookie. No framework and no
// build step; every string from the API is set as text, never parsed as HTML.

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
const page = document.getElementById('page');
const svgNamespace = 'http://www.w3.org/2000/svg';
let refreshTimer;

/** An element with attributes (on… are listeners) and children (strings become text). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(svgNamespace, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children)
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error;
  }
}

/** A call to the admin API; state-changing ones carry the session's CSRF token. */
async function api(path, options = {}) {
  const method = options.method ?? 'GET';
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`/api/v1/admin${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = await response.json().catch(() => undefined);
  // The session ended (expired, signed out elsewhere, key revoked): the server shows the sign-in page.
  if (response.status === 401) {
    window.location.assign('/console');
    throw new ApiError(401, body);
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

const usd = (value) => `$${value.toFixed(value !== 0 && value < 1 ? 3 : 2)}`;
const percent = (value) => `${(value * 100).toFixed(value > 0 && value < 0.1 ? 1 : 0)}%`;
const when = (iso) => new Date(iso).toLocaleString();
const currentMonth = () => new Date().toISOString().slice(0, 7);

/**
 * A table of `rows` (tr elements) under `headings`. Each cell is labelled with its heading and its content
 * wrapped in one box, so a phone can show every row as a card of "heading: value" lines instead of a table
 * wider than the screen; `stack: false` keeps a few narrow columns a table there too.
 */
function table(headings, rows, empty = 'Nothing yet.', { stack = true } = {}) {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  const labels = headings.map((heading) => heading.label ?? heading);
  for (const row of rows) {
    [...row.children].forEach((cell, index) => {
      cell.dataset.label = labels[index] ?? '';
      const content = h('div', { class: 'cell' });
      content.append(...cell.childNodes);
      cell.append(content);
    });
  }
  return h(
    'div',
    { class: stack ? 'table-wrap stack' : 'table-wrap' },
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headings.map((heading, index) =>
            h('th', { class: heading.number ? 'number' : undefined }, labels[index]),
          ),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

function card(label, value, detail, testId) {
  return h(
    'div',
    { class: 'card' },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value', 'data-testid': testId }, value),
    detail ? h('div', { class: 'detail' }, detail) : undefined,
  );
}

/** A button that asks for a second click before it acts (no blocking dialogs). */
function confirmButton(label, confirmLabel, action) {
  const button = h('button', { type: 'button', class: 'danger' }, label);
  button.addEventListener('click', async () => {
    if (!button.classList.contains('armed')) {
      button.classList.add('armed');
      button.textContent = confirmLabel;
      return;
    }
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      button.disabled = false;
      showError(error);
    }
  });
  return button;
}

function showError(error) {
  const alert = h(
    'p',
    { class: 'alert', role: 'alert' },
    error instanceof Error ? error.message : String(error),
  );
  page.prepend(alert);
}

// --- Overview -------------------------------------------------------------------------------------------

/** The per-day chart's SVG at `width` CSS pixels, so its labels keep their size on any screen. */
function dayChartSvg(days, width) {
  const height = 200;
  const left = 36;
  const right = 48;
  const top = 12;
  const bottom = 24;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const maxImages = Math.max(1, ...days.map((day) => day.images));
  const maxCost = Math.max(0.01, ...days.map((day) => day.cost_usd));
  const step = plotWidth / days.length;
  // Day numbers every 5 days, or every 10 where 5 would crowd them (a phone).
  const labelEvery = step * 5 >= 24 ? 5 : 10;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'Images and cost per day',
  });
  chart.append(
    svg('line', {
      class: 'axis',
      x1: left,
      y1: top + plotHeight,
      x2: left + plotWidth,
      y2: top + plotHeight,
    }),
  );
  chart.append(svg('text', { x: left - 6, y: top + 8, 'text-anchor': 'end' }, String(maxImages)));
  chart.append(svg('text', { x: left - 6, y: top + plotHeight, 'text-anchor': 'end' }, '0'));
  chart.append(svg('text', { x: left + plotWidth + 6, y: top + 8 }, usd(maxCost)));
  const points = [];
  days.forEach((day, index) => {
    const barHeight = (day.images / maxImages) * plotHeight;
    const x = left + index * step;
    const bar = svg('rect', {
      class: 'bar',
      x: x + step * 0.15,
      y: top + plotHeight - barHeight,
      width: step * 0.7,
      height: Math.max(0, barHeight),
    });
    bar.append(svg('title', {}, `${day.date}: ${day.images} images, ${usd(day.cost_usd)}`));
    chart.append(bar);
    points.push(`${x + step / 2},${top + plotHeight - (day.cost_usd / maxCost) * plotHeight}`);
    if (index === 0 || (index + 1) % labelEvery === 0) {
      chart.append(
        svg('text', { x: x + step / 2, y: height - 8, 'text-anchor': 'middle' }, String(index + 1)),
      );
    }
  });
  chart.append(svg('polyline', { class: 'cost', points: points.join(' ') }));
  return chart;
}

/**
 * Images (bars) and cost (line) per day. Drawn again whenever its box changes width (a phone turned, a
 * window resized): a drawing scaled to fit would shrink its labels past reading on a phone.
 */
function dayChart(days) {
  const minimumWidth = 280;
  let drawnWidth = 720;
  let chart = dayChartSvg(days, drawnWidth);
  const container = h(
    'div',
    { class: 'chart' },
    chart,
    h(
      'div',
      { class: 'legend' },
      h('span', {}, h('span', { class: 'swatch' }), 'images'),
      h('span', {}, h('span', { class: 'swatch cost' }), 'cost (USD)'),
    ),
  );
  const observer = new ResizeObserver(([entry]) => {
    // Zero: the page was redrawn and the chart taken out of it; nothing will show it again.
    if (!entry || entry.contentRect.width === 0) {
      if (!container.isConnected) observer.disconnect();
      return;
    }
    const width = Math.max(minimumWidth, Math.floor(entry.contentRect.width));
    if (width === drawnWidth) return;
    drawnWidth = width;
    const redrawn = dayChartSvg(days, width);
    chart.replaceWith(redrawn);
    chart = redrawn;
    container.dataset.width = String(width);
  });
  observer.observe(container);
  return container;
}

async function overviewPage(params) {
  const month = params.get('month') ?? currentMonth();
  const [overview, usage] = await Promise.all([
    api(`/overview?month=${encodeURIComponent(month)}`),
    api(`/usage?month=${encodeURIComponent(month)}`),
  ]);
  // The overview's tables have a few short columns: a table even on a phone.
  const narrow = { stack: false };
  const monthInput = h('input', { type: 'month', value: month, 'aria-label': 'Month' });
  monthInput.addEventListener('change', () => {
    if (monthInput.value) window.location.hash = `overview?month=${monthInput.value}`;
  });
  const budget = overview.budget_usd;
  const share = budget ? overview.cost_usd / budget : 0;
  const meter = h('div', { class: share > 1 ? 'meter over' : 'meter' }, h('span'));
  meter.firstChild.style.width = `${Math.min(100, share * 100)}%`;
  const spend = h(
    'div',
    { class: 'card' },
    h('div', { class: 'label' }, 'Spend vs budget'),
    h('div', { class: 'value', 'data-testid': 'spend' }, usd(overview.cost_usd)),
    h(
      'div',
      { class: 'detail' },
      budget === null ? 'No MONTHLY_BUDGET_USD set' : `of ${usd(budget)} (${percent(share)})`,
    ),
    budget === null ? undefined : meter,
  );
  return [
    h(
      'div',
      { class: 'toolbar' },
      h('h2', {}, `Overview · ${overview.month}`),
      monthInput,
      h(
        'a',
        { href: `/api/v1/admin/usage.csv?month=${encodeURIComponent(month)}`, download: '' },
        'Usage CSV',
      ),
    ),
    h(
      'div',
      { class: 'cards' },
      card(
        'Images this month',
        overview.images,
        overview.reserved_images ? `+${overview.reserved_images} in progress` : 'charged',
        'images-total',
      ),
      card(
        'Today',
        overview.today ? overview.today.images : '–',
        overview.today ? `${usd(overview.today.cost_usd)} · images on record` : 'not this month',
        'images-today',
      ),
      spend,
      card('Users charged', usage.users.length, 'this month', 'users-charged'),
    ),
    h('section', { class: 'panel' }, h('h3', {}, 'Per day'), dayChart(overview.days)),
    h(
      'div',
      { class: 'panels' },
      h(
        'section',
        { class: 'panel' },
        h('h3', {}, 'Failure rate by provider'),
        table(
          [
            'Provider',
            { label: 'Images', number: true },
            { label: 'Failed', number: true },
            { label: 'Rate', number: true },
          ],
          overview.providers.map((row) =>
            h(
              'tr',
              {},
              h('td', {}, row.provider),
              h('td', { class: 'number' }, row.images),
              h('td', { class: 'number' }, row.failures),
              h('td', { class: 'number' }, percent(row.failure_rate)),
            ),
          ),
          undefined,
          narrow,
        ),
      ),
      h(
        'section',
        { class: 'panel' },
        h('h3', {}, 'Models'),
        table(
          ['Model', 'Provider', { label: 'Images', number: true }, { label: 'Failed', number: true }],
          overview.models.map((row) =>
            h(
              'tr',
              {},
              h('td', {}, row.model),
              h('td', {}, row.provider),
              h('td', { class: 'number' }, row.images),
              h('td', { class: 'number' }, row.failures),
            ),
          ),
          undefined,
          narrow,
        ),
      ),
      h(
        'section',
        { class: 'panel' },
        h('h3', {}, 'Heaviest users'),
        table(
          ['User', 'Plan', { label: 'Images', number: true }, { label: 'Cost', number: true }],
          usage.users
            .slice(0, 10)
            .map((row) =>
              h(
                'tr',
                {},
                h('td', {}, row.uid),
                h('td', {}, row.plan),
                h('td', { class: 'number' }, row.images),
                h('td', { class: 'number' }, usd(row.cost_usd)),
              ),
            ),
          undefined,
          narrow,
        ),
      ),
      h(
        'section',
        { class: 'panel' },
        h('h3', {}, 'Heaviest servers and workspaces'),
        table(
          ['Scope', { label: 'Images', number: true }],
          overview.top_scopes.map((row) =>
            h('tr', {}, h('td', {}, row.scope), h('td', { class: 'number' }, row.images)),
          ),
          'No server or workspace caps in use.',
          narrow,
        ),
      ),
    ),
  ];
}

// --- Users ----------------------------------------------------------------------------------------------

function userRow(user, plans) {
  const choices = plans.includes(user.plan) ? plans : [user.plan, ...plans];
  const select = h(
    'select',
    { 'aria-label': `Plan of ${user.uid}` },
    choices.map((plan) => h('option', { value: plan, selected: plan === user.plan }, plan)),
  );
  const status = h('span', { class: 'notice', role: 'status' });
  const save = h('button', { type: 'button', class: 'secondary' }, 'Save');
  save.addEventListener('click', async () => {
    save.disabled = true;
    try {
      const changed = await api(`/users/${encodeURIComponent(user.uid)}`, {
        method: 'PATCH',
        body: { plan: select.value },
      });
      status.textContent = `now ${changed.plan}`;
    } catch (error) {
      showError(error);
    } finally {
      save.disabled = false;
    }
  });
  return h(
    'tr',
    { 'data-uid': user.uid },
    h('td', {}, user.uid),
    h('td', {}, h('div', { class: 'inline' }, select, save, status)),
    h(
      'td',
      {},
      user.linked_identities.length
        ? user.linked_identities.map((identity) => h('span', { class: 'tag' }, identity))
        : h('span', { class: 'muted' }, 'none'),
    ),
    h('td', { class: 'number' }, user.used_this_month),
  );
}

async function usersPage(params) {
  const query = params.get('query') ?? '';
  const cursor = params.get('cursor');
  const result = await api(
    `/users?query=${encodeURIComponent(query)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
  );
  const search = h('input', {
    type: 'search',
    name: 'query',
    value: query,
    placeholder: 'uid or identity',
    'aria-label': 'Search users',
  });
  const form = h('form', { class: 'row', role: 'search' }, search, h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    window.location.hash = `users?query=${encodeURIComponent(search.value)}`;
  });
  return [
    h('div', { class: 'toolbar' }, h('h2', {}, 'Users'), form),
    h(
      'section',
      { class: 'panel' },
      table(
        ['User', 'Plan', 'Linked identities', { label: 'Used this month', number: true }],
        result.users.map((user) => userRow(user, result.plans)),
        'No users match.',
      ),
    ),
    result.next_cursor
      ? h(
          'a',
          {
            href: `#users?query=${encodeURIComponent(query)}&cursor=${encodeURIComponent(result.next_cursor)}`,
          },
          'Next page →',
        )
      : undefined,
  ];
}

// --- Images ---------------------------------------------------------------------------------------------

function imageTile(image) {
  const refund = h('input', { type: 'checkbox', 'aria-label': 'Refund the image to its user' });
  const tile = h(
    'figure',
    { class: 'tile', 'data-image-id': image.id, tabindex: '0' },
    h('img', { src: image.image_url, alt: image.prompt, loading: 'lazy', width: '150', height: '150' }),
    h(
      'figcaption',
      {},
      h('div', {}, image.prompt),
      h('div', { class: 'who' }, `${image.uid} · ${image.source} · ${image.model}`),
      h('div', { class: 'who' }, when(image.created_at)),
    ),
  );
  const remove = confirmButton('Delete', 'Confirm', async () => {
    await api(`/images/${encodeURIComponent(image.id)}${refund.checked ? '?refund=true' : ''}`, {
      method: 'DELETE',
    });
    tile.remove();
  });
  tile.append(h('div', { class: 'actions' }, h('label', {}, refund, ' refund'), remove));
  return tile;
}

async function imagesPage(params) {
  const user = params.get('user') ?? '';
  const source = params.get('source') ?? '';
  const cursor = params.get('cursor');
  const query = new URLSearchParams({ limit: '24' });
  if (user) query.set('user', user);
  if (source) query.set('source', source);
  if (cursor) query.set('cursor', cursor);
  const result = await api(`/images?${query}`);
  const userInput = h('input', {
    type: 'search',
    value: user,
    placeholder: 'user id',
    'aria-label': 'Filter by user',
  });
  const sourceSelect = h(
    'select',
    { 'aria-label': 'Filter by source' },
    ['', 'api', 'discord', 'slack', 'cli'].map((value) =>
      h('option', { value, selected: value === source }, value || 'any source'),
    ),
  );
  const form = h(
    'form',
    { class: 'row' },
    userInput,
    sourceSelect,
    h('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (userInput.value) next.set('user', userInput.value);
    if (sourceSelect.value) next.set('source', sourceSelect.value);
    window.location.hash = `images?${next}`;
  });
  const next = new URLSearchParams(query);
  next.delete('limit');
  if (result.next_cursor) next.set('cursor', result.next_cursor);
  return [
    h('div', { class: 'toolbar' }, h('h2', {}, 'Images'), form),
    result.images.length
      ? h('div', { class: 'gallery' }, result.images.map(imageTile))
      : h('p', { class: 'muted' }, 'No images match.'),
    result.next_cursor ? h('p', {}, h('a', { href: `#images?${next}` }, 'Older images →')) : undefined,
  ];
}

// --- Jobs -----------------------------------------------------------------------------------------------

async function jobsPage() {
  const result = await api('/jobs');
  // A live queue: redrawn every few seconds while this page is open.
  refreshTimer = setTimeout(() => {
    if (window.location.hash.startsWith('#jobs')) render();
  }, 3000);
  return [
    h(
      'div',
      { class: 'toolbar' },
      h('h2', {}, 'Jobs'),
      h(
        'span',
        { class: 'muted', 'data-testid': 'jobs-updated' },
        `updated ${new Date().toLocaleTimeString()}`,
      ),
    ),
    h(
      'section',
      { class: 'panel' },
      table(
        [
          'Job',
          'User',
          'Status',
          { label: 'Position', number: true },
          'Model',
          'Source',
          { label: 'Age', number: true },
          { label: 'Progress', number: true },
        ],
        result.jobs.map((job) =>
          h(
            'tr',
            {},
            h('td', {}, h('code', {}, job.id.slice(0, 13))),
            h('td', {}, job.uid),
            h('td', {}, h('span', { class: job.status === 'running' ? 'tag' : 'tag warn' }, job.status)),
            h('td', { class: 'number' }, job.position || '–'),
            h('td', {}, job.model),
            h('td', {}, job.source),
            h('td', { class: 'number' }, `${job.age_seconds}s`),
            h('td', { class: 'number' }, job.progress === null ? '–' : percent(job.progress)),
          ),
        ),
        'Nothing queued or running.',
      ),
    ),
  ];
}

// --- Keys -----------------------------------------------------------------------------------------------

async function keysPage() {
  const result = await api('/keys');
  const secretBox = h('div');
  const uid = h('input', { name: 'uid', required: true, placeholder: 'uid' });
  const plan = h('input', { name: 'plan', placeholder: 'default' });
  const label = h('input', { name: 'label', placeholder: 'optional' });
  const admin = h('input', { type: 'checkbox', name: 'admin' });
  const form = h(
    'form',
    { class: 'row', 'aria-label': 'Create an API key' },
    h('label', {}, 'User', uid),
    h('label', {}, 'Plan', plan),
    h('label', {}, 'Label', label),
    h('label', { class: 'check' }, admin, ' admin'),
    h('button', { type: 'submit' }, 'Create key'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const created = await api('/keys', {
        method: 'POST',
        body: {
          uid: uid.value,
          plan: plan.value || undefined,
          label: label.value || undefined,
          admin: admin.checked,
        },
      });
      const list = await keysTable();
      keysList.replaceWith(list);
      keysList = list;
      secretBox.replaceChildren(
        h(
          'div',
          { class: 'secret', role: 'status' },
          h('strong', {}, `Key for ${created.uid} — shown once, store it now:`),
          h('code', { 'data-testid': 'new-key' }, created.key),
        ),
      );
      form.reset();
    } catch (error) {
      showError(error);
    }
  });
  const keysTable = async (listed) => {
    const keys = listed ?? (await api('/keys')).keys;
    return h(
      'section',
      { class: 'panel' },
      table(
        ['Prefix', 'User', 'Label', 'Kind', 'Created', 'State', ''],
        keys.map((key) =>
          h(
            'tr',
            { 'data-prefix': key.prefix },
            h('td', {}, h('code', {}, `${key.prefix}…`)),
            h('td', {}, key.uid),
            h('td', {}, key.label ?? ''),
            h('td', {}, key.admin ? h('span', { class: 'tag warn' }, 'admin') : 'app'),
            h('td', {}, when(key.created_at)),
            h('td', {}, key.revoked_at ? `revoked ${when(key.revoked_at)}` : 'active'),
            h(
              'td',
              {},
              key.revoked_at
                ? ''
                : confirmButton('Revoke', 'Confirm revoke', async () => {
                    await api(`/keys/${encodeURIComponent(key.prefix)}`, { method: 'DELETE' });
                    render();
                  }),
            ),
          ),
        ),
      ),
    );
  };
  let keysList = await keysTable(result.keys);
  return [
    h('div', { class: 'toolbar' }, h('h2', {}, 'API keys')),
    h('section', { class: 'panel' }, form),
    secretBox,
    keysList,
  ];
}

// --- Audit ----------------------------------------------------------------------------------------------

async function auditPage(params) {
  const cursor = params.get('cursor');
  const result = await api(`/audit${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
  const json = (value) =>
    value === null
      ? h('span', { class: 'muted' }, '–')
      : h('pre', { class: 'json' }, JSON.stringify(value, null, 1));
  return [
    h('div', { class: 'toolbar' }, h('h2', {}, 'Audit trail')),
    h(
      'section',
      { class: 'panel' },
      table(
        ['When', 'Who', 'Action', 'Target', 'Before', 'After'],
        result.entries.map((entry) =>
          h(
            'tr',
            {},
            h('td', {}, when(entry.created_at)),
            h('td', {}, entry.actor),
            h('td', {}, h('span', { class: 'tag' }, entry.action)),
            h('td', {}, entry.target),
            h('td', {}, json(entry.before)),
            h('td', {}, json(entry.after)),
          ),
        ),
        'No admin changes yet.',
      ),
    ),
    result.next_cursor
      ? h('a', { href: `#audit?cursor=${encodeURIComponent(result.next_cursor)}` }, 'Older entries →')
      : undefined,
  ];
}

// --- Routing --------------------------------------------------------------------------------------------

const pages = {
  overview: overviewPage,
  users: usersPage,
  images: imagesPage,
  jobs: jobsPage,
  keys: keysPage,
  audit: auditPage,
};

async function render() {
  clearTimeout(refreshTimer);
  const [name, query] = window.location.hash.slice(1).split('?');
  const key = pages[name] ? name : 'overview';
  for (const link of document.querySelectorAll('.top nav a')) {
    if (link.getAttribute('href') === `#${key}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${key[0].toUpperCase()}${key.slice(1)} · imagine console`;
  try {
    const content = await pages[key](new URLSearchParams(query ?? ''));
    page.replaceChildren(...content.filter(Boolean));
    page.dataset.page = key;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    page.replaceChildren(
      h('p', { class: 'alert', role: 'alert' }, `Could not load this page: ${error.message}`),
    );
  }
}

window.addEventListener('hashchange', render);
render();
