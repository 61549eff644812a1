// The status page (ADR 029): reads /console/api/overview every REFRESH_MS and draws each backend's
// status and the jobs by status; its retry and cancel buttons POST with the session's CSRF token in a
// header. No framework, no build step. Every value from the service goes into the page as text
// (textContent), never as HTML.
'use strict';

(function () {
  const REFRESH_MS = 2000;
  const state = {csrf: null, filter: null, timer: null, rows: new Map()};

  const $ = function (id) {
    return document.getElementById(id);
  };

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) {
      e.className = className;
    }
    if (text !== undefined && text !== null) {
      e.textContent = String(text);
    }
    return e;
  }

  function show(text, kind) {
    const m = $('message');
    m.textContent = text;
    m.className = 'notice' + (kind ? ' ' + kind : '');
    m.hidden = !text;
  }

  function toLogin() {
    window.location.href = 'login';
  }

  // ---- CSRF token: read once per page, again when the service says it no longer matches ----
  function loadCsrf() {
    return fetch('api/csrf', {credentials: 'same-origin', cache: 'no-store'})
      .then(function (r) {
        if (!r.ok) {
          throw new Error('HTTP ' + r.status);
        }
        return r.json();
      })
      .then(function (csrf) {
        state.csrf = csrf;
        const field = $('logout-csrf');
        field.name = csrf.parameterName;
        field.value = csrf.token;
        return csrf;
      });
  }

  function problem(r) {
    return r.json().catch(function () {
      return {};
    }).then(function (body) {
      return {status: r.status, code: body.code, detail: body.detail || ('HTTP ' + r.status)};
    });
  }

  function post(path, again) {
    const headers = {};
    headers[state.csrf.headerName] = state.csrf.token;
    return fetch(path, {method: 'POST', credentials: 'same-origin', headers: headers}).then(function (r) {
      if (r.ok) {
        return r.json();
      }
      if (r.status === 401) {
        toLogin();
      }
      return problem(r).then(function (p) {
        if (p.code === 'VSYNC-AUTH-CSRF' && !again) {
          return loadCsrf().then(function () {
            return post(path, true);
          });
        }
        throw p;
      });
    });
  }

  function act(job, action) {
    show(action + ' ' + job.id + '…');
    post('api/jobs/' + encodeURIComponent(job.id) + '/' + action).then(function (after) {
      show(action + ': job ' + after.id + ' is ' + after.status + '.', 'ok');
      refresh();
    }).catch(function (p) {
      show(action + ' refused: ' + (p.code ? p.code + ': ' : '') + (p.detail || p.message), 'error');
    });
  }

  // ---- formatting ----
  function seconds(s) {
    if (s === null || s === undefined) {
      return '–';
    }
    if (s < 10) {
      return s.toFixed(1) + ' s';
    }
    if (s < 120) {
      return Math.round(s) + ' s';
    }
    if (s < 7200) {
      return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
    }
    return (s / 3600).toFixed(1) + ' h';
  }

  function relative(iso, now) {
    const delta = (Date.parse(iso) - now) / 1000;
    return delta > 1 ? 'in ' + seconds(delta) : seconds(Math.max(0, -delta)) + ' ago';
  }

  function when(iso, now) {
    if (!iso) {
      return el('span', 'muted', '–');
    }
    const span = el('time', null, relative(iso, now));
    span.dateTime = iso;
    span.title = iso;
    return span;
  }

  /** Kept rows keep their elements; their times are said anew against the service's clock. */
  function retime(now) {
    document.querySelectorAll('#jobs time').forEach(function (t) {
      t.textContent = relative(t.dateTime, now);
    });
  }

  function cell(row, content, className) {
    const td = el('td', className);
    if (content instanceof Node) {
      td.appendChild(content);
    } else {
      td.textContent = content === null || content === undefined ? '–' : String(content);
    }
    row.appendChild(td);
    return td;
  }

  // ---- backends ----
  function backendState(b) {
    if (b.halted) {
      return ['halted: ' + b.halted, 'bad'];
    }
    if (b.paused) {
      return ['paused', 'warn'];
    }
    if (b.backingOff) {
      return ['backing off (' + b.consecutiveFailures + ' failures)', 'warn'];
    }
    return ['running', 'good'];
  }

  function drawBackends(backends) {
    const body = $('backends').tBodies[0];
    body.replaceChildren();
    backends.forEach(function (b) {
      const tr = el('tr');
      tr.dataset.backend = b.backend;
      cell(tr, b.backend, 'name');
      const st = backendState(b);
      cell(tr, st[0], 'state ' + st[1]);
      const hasStats = b.backlog !== undefined;
      cell(tr, hasStats ? seconds(b.lagSeconds) : '–', 'num lag' + (b.lagSeconds > 60 ? ' warn' : ''));
      cell(tr, hasStats ? b.backlog : '–', 'num backlog');
      cell(tr, hasStats ? b.parked : '–', 'num parked' + (b.parked > 0 ? ' warn' : ''));
      cell(tr, hasStats ? b.deadLetters : '–', 'num dead-letters' + (b.deadLetters > 0 ? ' bad' : ''));
      cell(tr, b.circuit, 'circuit');
      const bf = b.backfill;
      cell(tr, bf && bf.running ? 'running: ' + bf.copied + (bf.total !== undefined ? ' / ' + bf.total : '')
        : 'no', 'backfill');
      cell(tr, b.lastError || '', 'last-error');
      body.appendChild(tr);
    });
  }

  // ---- jobs ----
  function progress(job) {
    const wrap = el('span', 'progress');
    const bar = el('progress');
    const done = job.progress ? job.progress.done : 0;
    const total = job.progress ? job.progress.total : undefined;
    if (total !== undefined && total !== null && total > 0) {
      bar.max = total;
      bar.value = Math.min(done, total);
      wrap.appendChild(bar);
      wrap.appendChild(el('span', 'progress-text', done + ' / ' + total));
    } else if (job.status === 'COMPLETED') {
      bar.max = 1;
      bar.value = 1;
      wrap.appendChild(bar);
      if (done > 0) {
        wrap.appendChild(el('span', 'progress-text', String(done)));
      }
    } else {
      wrap.appendChild(el('span', 'progress-text muted', done > 0 ? String(done) : '–'));
    }
    return wrap;
  }

  function jobRow(job, now) {
    const tr = el('tr', 'job status-' + job.status.toLowerCase());
    tr.dataset.jobId = job.id;
    tr.dataset.status = job.status;
    cell(tr, el('span', 'badge status-' + job.status.toLowerCase(), job.status), 'status');
    cell(tr, job.type, 'type');
    cell(tr, el('code', null, job.id), 'id');
    cell(tr, progress(job), 'progress-cell');
    cell(tr, job.attempts + ' / ' + job.maxAttempts, 'num attempts');
    cell(tr, when(job.createdAt, now), 'created');
    cell(tr, when(job.startedAt || (job.status === 'PENDING' ? job.runAt : null), now), 'started');
    cell(tr, when(job.finishedAt, now), 'finished');
    cell(tr, job.lastError || '', 'last-error');
    const actions = cell(tr, '', 'actions');
    if (job.status === 'FAILED' || job.status === 'CANCELLED') {
      const b = el('button', 'retry', 'Retry');
      b.type = 'button';
      b.addEventListener('click', function () {
        b.disabled = true;
        act(job, 'retry');
      });
      actions.appendChild(b);
    }
    if (job.status === 'PENDING' || job.status === 'PROCESSING') {
      const b = el('button', 'cancel', 'Cancel');
      b.type = 'button';
      b.addEventListener('click', function () {
        b.disabled = true;
        act(job, 'cancel');
      });
      actions.appendChild(b);
    }
    return tr;
  }

  function drawCounts(groups) {
    const counts = $('job-counts');
    counts.replaceChildren();
    const all = el('button', 'count all' + (state.filter === null ? ' selected' : ''), 'all');
    all.type = 'button';
    all.addEventListener('click', function () {
      state.filter = null;
      refresh();
    });
    counts.appendChild(all);
    groups.forEach(function (g) {
      const b = el('button', 'count status-' + g.status.toLowerCase() + (state.filter === g.status ? ' selected' : ''));
      b.type = 'button';
      b.dataset.status = g.status;
      b.appendChild(el('span', 'count-name', g.status.toLowerCase()));
      b.appendChild(el('span', 'count-value', g.jobs.length + (g.more ? '+' : '')));
      b.addEventListener('click', function () {
        state.filter = state.filter === g.status ? null : g.status;
        refresh();
      });
      counts.appendChild(b);
    });
  }

  function drawJobs(groups, now) {
    drawCounts(groups);
    const body = $('jobs').tBodies[0];
    const seen = new Set();
    let shown = 0;
    // Rows are kept while their job is unchanged, so a button under the pointer stays the same element.
    groups.filter(function (g) {
      return state.filter === null || g.status === state.filter;
    }).forEach(function (g) {
      g.jobs.forEach(function (job) {
        const key = JSON.stringify(job);
        let entry = state.rows.get(job.id);
        if (!entry || entry.key !== key) {
          const row = jobRow(job, now);
          if (entry) {
            entry.row.replaceWith(row);
          }
          entry = {key: key, row: row};
          state.rows.set(job.id, entry);
        }
        seen.add(job.id);
        body.appendChild(entry.row);
        shown++;
      });
    });
    state.rows.forEach(function (entry, id) {
      if (!seen.has(id)) {
        entry.row.remove();
        state.rows.delete(id);
      }
    });
    $('no-jobs').hidden = shown > 0;
    retime(now);
  }

  // ---- the refresh loop ----
  function refresh() {
    clearTimeout(state.timer);
    return fetch('api/overview', {credentials: 'same-origin', cache: 'no-store'}).then(function (r) {
      if (r.status === 401) {
        toLogin();
        return null;
      }
      if (!r.ok) {
        return problem(r).then(function (p) {
          throw new Error(p.code ? p.code + ': ' + p.detail : p.detail);
        });
      }
      return r.json();
    }).then(function (o) {
      if (!o) {
        return;
      }
      const now = Date.parse(o.at);
      $('user').textContent = 'logged in as ' + o.user;
      drawBackends(o.backends);
      drawJobs(o.jobs, now);
      const refreshed = $('refreshed');
      refreshed.textContent = 'updated ' + new Date(now).toLocaleTimeString();
      refreshed.className = 'muted';
      document.body.dataset.refreshedAt = o.at;
    }).catch(function (e) {
      const refreshed = $('refreshed');
      refreshed.textContent = 'update failed: ' + e.message;
      refreshed.className = 'bad';
    }).finally(function () {
      if ($('auto-refresh').checked) {
        state.timer = setTimeout(refresh, REFRESH_MS);
      }
    });
  }

  $('auto-refresh').addEventListener('change', function () {
    if (this.checked) {
      refresh();
    } else {
      clearTimeout(state.timer);
    }
  });

  loadCsrf().catch(function (e) {
    show('The CSRF token could not be read (' + e.message + '); the buttons will not work. Reload the page.', 'error');
  });
  refresh();
})();
