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
  }));
});
setLanguage('en');
