const body = document.body;
function setLanguage(lang) {
  body.classList.toggle('lang-en', lang === 'en');
  body.classList.toggle('lang-zh', lang === 'zh');
  const button = document.getElementById('lang-switch');
  button.setAttribute('aria-pressed', lang === 'zh' ? 'true' : 'false');
  button.textContent = lang === 'zh' ? 'English' : '中文';
  document.documentElement.lang = lang === 'zh' ? 'zh-Hans' : 'en';
}
document.getElementById('lang-switch').addEventListener('click', () =>
  setLanguage(body.classList.contains('lang-en') ? 'zh' : 'en'));

// A figure, wherever it is clicked (reading view, table, chart, check), is highlighted in both
// languages of the reading view, and its facts row is shown under its sentence.
const reading = document.getElementById('reading-text');
function showFact(factId, scroll) {
  const selector = `mark[data-fact-id="${CSS.escape(factId)}"]`;
  const chinese = reading.querySelector(`.zh ${selector}`);
  if (!chinese) return;
  reading.querySelectorAll('mark.active').forEach(m => m.classList.remove('active'));
  reading.querySelectorAll('.sentence.active').forEach(s => s.classList.remove('active'));
  reading.querySelectorAll('.fact-card').forEach(card => { card.hidden = true; });
  reading.querySelectorAll(selector).forEach(m => m.classList.add('active'));
  const card = document.getElementById(`card-${factId}`);
  if (card) card.hidden = false;
  chinese.closest('.sentence').classList.add('active');
  if (scroll) chinese.scrollIntoView({block: 'center'});
  chinese.focus({preventScroll: true});
}
document.addEventListener('click', event => {
  const target = event.target.closest('[data-fact-id]');
  if (!target) return;
  event.preventDefault();
  showFact(target.dataset.factId, !reading.contains(target));
});
document.addEventListener('keydown', event => {
  const target = event.target.closest && event.target.closest('svg [data-fact-id], mark[data-fact-id]');
  if (target && (event.key === 'Enter' || event.key === ' ')) {
    event.preventDefault();
    showFact(target.dataset.factId, !reading.contains(target));
  }
});

// Long tables show a page of rows at a time; "all rows" shows every row. Sorting keeps the paging.
const PAGE_ROWS = 10;
function paginate(table) {
  const rows = Array.from(table.tBodies[0].rows);
  const pager = table.pager;
  if (!pager) return;
  const size = pager.all ? rows.length : PAGE_ROWS;
  const pages = Math.max(1, Math.ceil(rows.length / size));
  pager.page = Math.min(Math.max(pager.page, 0), pages - 1);
  const first = pager.page * size;
  rows.forEach((row, i) => { row.hidden = i < first || i >= first + size; });
  pager.status.textContent = `Rows ${first + 1}–${Math.min(first + size, rows.length)} of ${rows.length}`;
  pager.previous.disabled = pager.page === 0;
  pager.next.disabled = pager.page >= pages - 1;
  pager.toggle.textContent = pager.all ? `Show ${PAGE_ROWS} rows at a time` : `Show all ${rows.length} rows`;
  pager.toggle.setAttribute('aria-pressed', pager.all ? 'true' : 'false');
}
function button(text, cls, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}
document.querySelectorAll('table.data, table.pageable').forEach(table => {
  const tools = document.querySelector(`.table-tools[data-for="${CSS.escape(table.dataset.table)}"]`);
  const columns = tools && tools.querySelector('.columns-toggle');
  if (columns) columns.addEventListener('click', () => {
    const all = table.classList.toggle('all-columns');
    columns.setAttribute('aria-pressed', all ? 'true' : 'false');
    columns.textContent = all ? 'Show the reader\'s columns only' : `Show all columns (+${columns.dataset.extra})`;
  });
  if (!tools || table.tBodies[0].rows.length <= PAGE_ROWS) return;
  const pager = {page: 0, all: false, status: document.createElement('span')};
  pager.status.className = 'pager-status';
  pager.previous = button('Previous', 'pager-previous', () => { pager.page -= 1; paginate(table); });
  pager.next = button('Next', 'pager-next', () => { pager.page += 1; paginate(table); });
  pager.toggle = button('', 'rows-toggle', () => { pager.all = !pager.all; pager.page = 0; paginate(table); });
  tools.append(pager.previous, pager.status, pager.next, pager.toggle);
  table.pager = pager;
  paginate(table);
});

// Copy buttons: the clipboard where the page may use it (https, localhost), else the text is selected and copied.
function copyText(id, source) {
  const element = document.getElementById(id);
  const text = element.textContent;
  const done = () => { source.textContent = 'Copied'; source.dataset.copied = 'true'; };
  const fallback = () => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    if (document.execCommand('copy')) done(); else source.textContent = 'Selected: press Ctrl+C';
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
  else fallback();
}
document.querySelectorAll('button.copy').forEach(b => b.addEventListener('click', () => copyText(b.dataset.copy, b)));

document.querySelectorAll('table.sortable').forEach(table => {
  table.querySelectorAll('th button').forEach((button, column) => button.addEventListener('click', () => {
    const th = button.parentElement;
    const ascending = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach(h => h.removeAttribute('aria-sort'));
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    const rows = Array.from(table.tBodies[0].rows);
    const key = row => row.cells[column].dataset.sort ?? row.cells[column].textContent;
    rows.sort((a, b) => {
      const x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      const order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, 'zh');
      return ascending ? order : -order;
    });
    rows.forEach(row => table.tBodies[0].appendChild(row));
    if (table.pager) { table.pager.page = 0; paginate(table); }
  }));
});
setLanguage('en');
