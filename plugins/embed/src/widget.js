/* plughost embed widget — include with one tag:
 *   <script src="https://HOST/api/embed/ID/widget.js" data-key="dce_…" async></script>
 * Renders a launcher and a chat panel inside its own shadow root (no styles leak in or out),
 * talks to ID's config/ and chat/ endpoints with the key, keeps the conversation's session id
 * for the tab, and never inserts server text as HTML. No dependencies. */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[src*="/api/embed/"][src*="widget.js"]');
    script = all[all.length - 1];
  }
  if (!script || !window.fetch) return;
  var src = new URL(script.src, location.href);
  var base = src.origin + src.pathname.replace(/widget\.js$/, '');
  var parts = src.pathname.split('/');
  var embedId = decodeURIComponent(parts[parts.length - 2] || '');
  var key = script.getAttribute('data-key') || '';
  var flag = '__plughostEmbed:' + embedId;
  if (window[flag]) return;  // included twice: one widget
  window[flag] = true;

  var storageKey = 'plughost-embed-session:' + embedId;
  var sessionId = null;
  try { sessionId = window.sessionStorage.getItem(storageKey); } catch (e) { /* storage off */ }

  var css = [
    ':host{all:initial}',
    '*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}',
    '.launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;',
    'border:0;background:var(--ph-color);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);',
    'display:flex;align-items:center;justify-content:center;z-index:2147483000}',
    '.launcher:focus-visible,.close:focus-visible,.send:focus-visible{outline:3px solid #111;outline-offset:2px}',
    '.panel{position:fixed;right:20px;bottom:88px;width:min(370px,calc(100vw - 40px));height:min(520px,calc(100vh - 120px));',
    'background:#fff;color:#111;border-radius:12px;box-shadow:0 10px 30px rgba(0,0,0,.3);display:flex;',
    'flex-direction:column;overflow:hidden;z-index:2147483000;font-size:14px;line-height:1.45}',
    '.panel[hidden]{display:none}',
    'header{background:var(--ph-color);color:#fff;padding:12px 14px;display:flex;align-items:center;justify-content:space-between}',
    'h2{margin:0;font-size:16px;font-weight:600}',
    '.close{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px}',
    '.messages{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f7f7f8}',
    '.msg{max-width:85%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}',
    '.msg.user{align-self:flex-end;background:var(--ph-color);color:#fff}',
    '.msg.bot{align-self:flex-start;background:#fff;border:1px solid #e3e3e6}',
    '.msg.error{align-self:stretch;background:#fdecec;color:#8a1c1c;border:1px solid #f3b7b7}',
    '.sources{display:block;margin-top:6px;font-size:12px;color:#555}',
    '.typing{align-self:flex-start;color:#666;font-style:italic}',
    'form{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e3e6;background:#fff}',
    'textarea{flex:1;resize:none;border:1px solid #c9c9cf;border-radius:8px;padding:8px;font-size:14px;color:#111;background:#fff;min-height:38px;max-height:120px}',
    'textarea:focus{outline:2px solid var(--ph-color);outline-offset:0}',
    '.send{border:0;border-radius:8px;background:var(--ph-color);color:#fff;padding:0 14px;cursor:pointer;font-size:14px}',
    '.send[disabled]{opacity:.6;cursor:default}',
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}'
  ].join('');

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs) if (Object.prototype.hasOwnProperty.call(attrs, name)) node.setAttribute(name, attrs[name]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function request(path, options) {
    options = options || {};
    var headers = { 'X-API-Key': key };
    if (options.body) headers['Content-Type'] = 'application/json';
    return fetch(base + path, {
      method: options.method || 'GET',
      headers: headers,
      body: options.body,
      credentials: 'omit',
      mode: 'cors'
    }).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { status: res.status, data: data, retryAfter: res.headers.get('Retry-After') };
      });
    });
  }

  function errorText(reply) {
    if (reply.status === 429) {
      var wait = parseInt(reply.retryAfter, 10);
      return 'You are sending messages too quickly. Please wait ' +
        (wait > 0 ? wait + ' second' + (wait === 1 ? '' : 's') : 'a moment') + ' and try again.';
    }
    var message = reply.data && reply.data.error && reply.data.error.message;
    if (reply.status === 400 && message) return message;
    return 'Sorry, something went wrong (' + (reply.status || 'network error') + '). Please try again.';
  }

  request('config/').then(function (reply) {
    if (reply.status !== 200 || !reply.data) {
      if (window.console) console.warn('plughost embed ' + embedId + ': ' + errorText(reply));
      return;
    }
    render(reply.data);
  }, function () {
    if (window.console) console.warn('plughost embed ' + embedId + ': cannot reach ' + base);
  });

  function render(config) {
    var color = /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(config.primary_color || '') ? config.primary_color : '#2563eb';
    var title = config.title || 'Chat';
    var hostEl = el('div', { 'data-plughost-embed': embedId });
    var root = hostEl.attachShadow({ mode: 'open' });
    var style = el('style', {}, css + ':host{--ph-color:' + color + '}');
    var launcher = el('button', { 'class': 'launcher', type: 'button', 'aria-label': 'Open chat: ' + title,
                                  'aria-expanded': 'false', 'aria-controls': 'ph-panel' });
    launcher.innerHTML = '<svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true" focusable="false">' +
      '<path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
    var panel = el('section', { 'class': 'panel', id: 'ph-panel', role: 'dialog', 'aria-labelledby': 'ph-title', hidden: '' });
    var header = el('header');
    var heading = el('h2', { id: 'ph-title' }, title);
    var close = el('button', { 'class': 'close', type: 'button', 'aria-label': 'Close chat' }, '\u00d7');
    header.appendChild(heading);
    header.appendChild(close);
    var log = el('div', { 'class': 'messages', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
    var form = el('form');
    var label = el('label', { 'class': 'sr', 'for': 'ph-input' }, 'Message');
    var input = el('textarea', { id: 'ph-input', rows: '1', maxlength: '1000',
                                 placeholder: config.placeholder || 'Type your question...' });
    var send = el('button', { 'class': 'send', type: 'submit' }, 'Send');
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);
    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(form);
    root.appendChild(style);
    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(hostEl);

    function add(kind, text, sources) {
      var node = el('div', { 'class': 'msg ' + kind }, text);
      if (kind === 'error') node.setAttribute('role', 'alert');
      if (sources && sources.length) {
        var names = sources.map(function (s) { return s.title || s.id; }).filter(Boolean);
        node.appendChild(el('span', { 'class': 'sources' }, 'Sources: ' + names.join(', ')));
      }
      log.appendChild(node);
      log.scrollTop = log.scrollHeight;
      return node;
    }
    if (config.welcome_message) add('bot', config.welcome_message);

    function open() {
      panel.hidden = false;
      launcher.setAttribute('aria-expanded', 'true');
      launcher.setAttribute('aria-label', 'Close chat: ' + title);
      input.focus();
    }
    function shut() {
      panel.hidden = true;
      launcher.setAttribute('aria-expanded', 'false');
      launcher.setAttribute('aria-label', 'Open chat: ' + title);
      launcher.focus();
    }
    launcher.addEventListener('click', function () { if (panel.hidden) open(); else shut(); });
    close.addEventListener('click', shut);
    panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') shut(); });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event('submit', { cancelable: true }));
      }
    });

    var busy = false;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var text = input.value.trim();
      if (!text || busy) return;
      busy = true;
      send.disabled = true;
      input.value = '';
      add('user', text);
      var typing = el('div', { 'class': 'typing', 'aria-hidden': 'true' }, '\u2026');
      log.appendChild(typing);
      var body = { message: text };
      if (sessionId) body.session_id = sessionId;
      request('chat/', { method: 'POST', body: JSON.stringify(body) }).then(function (reply) {
        typing.remove();
        if (reply.status === 200 && reply.data) {
          if (reply.data.session_id) {
            sessionId = reply.data.session_id;
            try { window.sessionStorage.setItem(storageKey, sessionId); } catch (err) { /* storage off */ }
          }
          add('bot', reply.data.response || reply.data.answer || '', reply.data.sources);
        } else {
          add('error', errorText(reply));
        }
      }, function () {
        typing.remove();
        add('error', 'Sorry, the chat cannot be reached. Please check your connection.');
      }).then(function () {
        busy = false;
        send.disabled = false;
        input.focus();
      });
    });
  }
})();
