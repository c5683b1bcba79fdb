"""A small client of the Chrome DevTools protocol: headless chromium loads a
page from disk, and the tests read its DOM by evaluating JavaScript, collect
its console errors, exceptions and network requests, and take screenshots.
Uses Debian's python3-websocket."""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

try:
    import websocket
except ImportError:	# a python3 of its own (pyenv): Debian's package is still there
    sys.path.append("/usr/lib/python3/dist-packages")
    import websocket


def chromium():
    """The browser's path, or None (tools/deps all installs Debian's chromium)."""
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


class Page:
    """One tab. load(path) opens a file; errors and requests lists what it saw."""

    def __init__(self, browser, session):
        self.b, self.session = browser, session
        self.errors, self.requests = [], []

    def call(self, method, **params):
        return self.b.call(method, params, self.session)

    def event(self, msg):
        m, p = msg["method"], msg.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.errors.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                      for a in p.get("args", [])))
        elif m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.errors.append("exception: " + d.get("exception", {}).get("description",
                                                                          d.get("text", "")))
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            self.errors.append("log: " + p["entry"]["text"])
        elif m == "Network.requestWillBeSent":
            self.requests.append(p["request"]["url"])

    def load(self, path, width=1400, height=1000, timeout=60):
        self.errors.clear()
        self.requests.clear()
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url="file://" + os.path.abspath(path))
        end = time.time() + timeout
        while time.time() < end:
            if self.js("document.readyState === 'complete' && "
                       "document.body && document.body.dataset.ready === '1'"):
                return
            if self.errors:
                return	# the script failed: the caller reports it
            time.sleep(0.1)
        raise AssertionError(f"{path}: not ready after {timeout} s ({self.errors})")

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expr[:80]}: {r['exceptionDetails'].get('text')} "
                                 f"{r['exceptionDetails'].get('exception', {}).get('description')}")
        return r["result"].get("value")

    def screenshot(self, path, full=False):
        params = {"format": "png"}
        if full:
            params["captureBeyondViewport"] = True
            h = self.js("document.documentElement.scrollHeight")
            params["clip"] = {"x": 0, "y": 0, "width": 1400, "height": h, "scale": 1}
        data = self.call("Page.captureScreenshot", **params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


class Browser:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kms-chromium.")
        self.p = subprocess.Popen(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--mute-audio",
             "--remote-debugging-port=0", f"--user-data-dir={self.dir}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        url = None
        end = time.time() + 60
        while time.time() < end:
            line = self.p.stderr.readline()
            if not line:
                break
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                url = m.group(1)
                break
        if not url:
            self.close()
            raise AssertionError("chromium did not start its DevTools endpoint")
        threading.Thread(target=self.p.stderr.read, daemon=True).start()	# drain
        self.ws = websocket.create_connection(url, timeout=120)
        self.next_id = 0
        self.pages = {}

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            r = json.loads(self.ws.recv())
            if "method" in r:
                page = self.pages.get(r.get("sessionId"))
                if page:
                    page.event(r)
                continue
            if r.get("id") == self.next_id:
                if "error" in r:
                    raise AssertionError(f"{method}: {r['error']}")
                return r.get("result", {})

    def page(self):
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        page = Page(self, session)
        self.pages[session] = page
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(domain + ".enable")
        return page

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
