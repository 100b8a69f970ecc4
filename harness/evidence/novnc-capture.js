// @ts-nocheck: page code, bundled with noVNC by novnc-page.ts and run in Chromium.
// Connects view-only, answers a password request when there is a password,
// waits until the screen is not one colour (or settleMs passes) and returns
// the framebuffer alone as a PNG data URL.
import RFB from '@novnc/novnc';

window.bsmShoot = async ({ url, password, timeoutMs, settleMs }) => {
  const rfb = new RFB(document.getElementById('screen'), url, { shared: true, wsProtocols: ['binary'] });
  rfb.viewOnly = true;
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no VNC session within ${timeoutMs} ms`)), timeoutMs);
    const done = (e) => {
      clearTimeout(timer);
      if (e) fail(e);
      else ok();
    };
    rfb.addEventListener('connect', () => done());
    rfb.addEventListener('disconnect', (e) => done(new Error(`the VNC connection closed${e.detail?.clean ? '' : ' uncleanly'} before a session started`)));
    rfb.addEventListener('securityfailure', (e) => done(new Error(`VNC authentication failed: ${e.detail?.reason ?? e.detail?.status}`)));
    rfb.addEventListener('credentialsrequired', () => {
      if (password) rfb.sendCredentials({ password });
      else done(new Error('the VNC server asks for a password and none is configured (framebuffer.passwordEnv)'));
    });
  });
  const canvas = document.querySelector('#screen canvas');
  const uniform = () => {
    if (!canvas.width || !canvas.height) return true;
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 4; i < d.length; i += 4) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return false;
    return true;
  };
  const until = Date.now() + settleMs;
  while (uniform() && Date.now() < until) await new Promise((w) => setTimeout(w, 200));
  const dataUrl = rfb.toDataURL('image/png');
  const blank = uniform();
  rfb.disconnect();
  return { dataUrl, width: canvas.width, height: canvas.height, blank };
};
