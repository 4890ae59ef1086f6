import { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * The board's sign-in page (anonymous, outside the board's guard): email and password go to POST /auth/login,
 * the token it answers to POST /admin/session, then the board opens. The token stays in the page's memory.
 * The script is a file of its own: the board's CSP allows scripts from the origin only.
 */
export function registerQueueBoardLogin(app: NestFastifyApplication, boardPath: string): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get(`${boardPath}/login`, async (_request, reply) => reply.type('text/html; charset=utf-8').send(LOGIN_PAGE));
  fastify.get(`${boardPath}/login.js`, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(loginScript(boardPath)),
  );
}

const LOGIN_PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Queue board: sign in</title>
<style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto}label{display:block;margin:.75rem 0}input{width:100%;padding:.4rem}#error{color:#b00020}</style>
<script defer src="login.js"></script></head>
<body>
<h1>Queue board</h1>
<p>Admins only (ADMIN_EMAILS).</p>
<form id="login">
  <label>Email <input name="email" type="email" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
  <p id="error" role="alert"></p>
</form>
</body>
</html>
`;

function loginScript(boardPath: string): string {
  return `'use strict';
document.getElementById('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const error = document.getElementById('error');
  error.textContent = '';
  const login = await fetch('/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: form.get('email'), password: form.get('password') }),
  });
  if (!login.ok) return void (error.textContent = 'Sign-in failed: ' + ((await login.json().catch(() => ({}))).message || login.status));
  const { token } = await login.json();
  const session = await fetch('/admin/session', { method: 'POST', headers: { authorization: 'Bearer ' + token } });
  if (!session.ok) return void (error.textContent = session.status === 403 ? 'This account is not an admin' : 'Could not open the session (' + session.status + ')');
  location.assign(${JSON.stringify(boardPath)});
});
`;
}
