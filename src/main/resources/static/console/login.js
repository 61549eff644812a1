// The login form: Spring Security's form login at POST /console/login needs the session's CSRF token,
// read from /console/api/csrf (same origin only) before the form can be sent.
'use strict';

(function () {
  const form = document.getElementById('login-form');
  const message = document.getElementById('login-message');
  const params = new URLSearchParams(window.location.search);
  if (params.has('error')) {
    message.textContent = 'The user or password is wrong.';
    message.className = 'notice error';
    message.hidden = false;
  } else if (params.has('logout')) {
    message.textContent = 'Logged out.';
    message.hidden = false;
  }
  const submit = document.getElementById('login-submit');
  submit.disabled = true;
  fetch('api/csrf', {credentials: 'same-origin', cache: 'no-store'})
    .then(function (r) {
      if (!r.ok) {
        throw new Error('HTTP ' + r.status);
      }
      return r.json();
    })
    .then(function (csrf) {
      const field = document.getElementById('login-csrf');
      field.name = csrf.parameterName;
      field.value = csrf.token;
      submit.disabled = false;
    })
    .catch(function (e) {
      message.textContent = 'The console cannot reach the service (' + e.message + '); reload the page.';
      message.className = 'notice error';
      message.hidden = false;
    });
  form.addEventListener('submit', function () {
    submit.disabled = true;
  });
})();
