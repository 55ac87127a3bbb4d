"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON
messages separated by NUL bytes on file descriptors 3 and 4), so page checks need no websocket
library and no npm package: only Debian's `chromium` and the Python standard library.

    with Browser() as b:
        b.navigate("http://127.0.0.1:8080/")
        b.eval("document.title")
        b.screenshot("page.png")
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time


class Browser:
    def __init__(self, width=1200, height=700, timeout=60):
        exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not exe:
            raise SystemExit("page check: chromium not found (Debian package `chromium`)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="fas-chromium-")
        to_chrome_r, self._w = os.pipe()   # we write commands, chromium reads fd 3
        self._r, from_chrome_w = os.pipe()  # chromium writes fd 4, we read

        def fds():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--disable-extensions", f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"],
            preexec_fn=fds, close_fds=False,  # dup2 in fds() leaves 3 and 4 open in chromium
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.call("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            if time.time() > deadline:
                raise TimeoutError("page check: no answer from chromium")
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise RuntimeError("page check: chromium exited")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=True, **params):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session and hasattr(self, "session"):
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + self.timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"page check: {method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def navigate(self, url):
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")

    def wait_event(self, name):
        deadline = time.time() + self.timeout
        while True:
            for e in self.events:
                if e["method"] == name:
                    self.events.remove(e)
                    return e
            self.events.append(self._read_message(deadline))

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page check: {expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expression, what):
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            v = self.eval(expression)
            if v:
                return v
            time.sleep(0.1)
        raise TimeoutError(f"page check: timed out waiting for {what}")

    def set_files(self, selector, paths):
        doc = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=doc, selector=selector)["nodeId"]
        if not node:
            raise RuntimeError(f"page check: no element {selector}")
        self.call("DOM.setFileInputFiles", nodeId=node, files=[os.path.abspath(p) for p in paths])

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
