"""The desktop app in a real window: the Switchyard binary built with the desktop feature,
under Xvfb, driven through tauri-driver and WebKitWebDriver (Selenium), its tray menu read and
clicked over D-Bus (StatusNotifierItem + dbusmenu), its notifications seen as a notification
server receives them (dbus-monitor), its window closed the way a window manager closes it
(WM_DELETE_WINDOW, python-xlib). Run by tests/gateway/desktop.rs inside
`dbus-run-session` with DISPLAY set; prints one JSON line at the end, exits non-zero on any
failed step.

Environment: APP (the binary), DATA_DIR, GATEWAY_PORT, MOCK_URL (OpenAI-compatible base URL),
SHOTS_DIR, DRIVER_PORT, NATIVE_PORT.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait
from Xlib import X, display as xdisplay, protocol

APP = os.environ["APP"]
DATA_DIR = os.environ["DATA_DIR"]
PORT = int(os.environ["GATEWAY_PORT"])
MOCK_URL = os.environ["MOCK_URL"]
SHOTS = os.environ.get("SHOTS_DIR", "target/desktop-screenshots")
DRIVER_PORT = int(os.environ.get("DRIVER_PORT", "4444"))
NATIVE_PORT = int(os.environ.get("NATIVE_PORT", "4445"))
ENDPOINT = f"http://127.0.0.1:{PORT}"
os.makedirs(SHOTS, exist_ok=True)


def step(name):
    print(f"step: {name}", flush=True)


def wait_until(what, check, timeout=20.0, every=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - keep polling, report the last failure
            last = e
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def chat(content="hello from the desktop test", model="mockai/mock-model"):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": content}]})
    req = urllib.request.Request(f"{ENDPOINT}/v1/chat/completions", data=body.encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read())


def status_of(model):
    """The gateway's HTTP status for a one-line chat with `model`."""
    try:
        return chat("status check", model=model)[0]
    except urllib.error.HTTPError as e:
        return e.code


def port_answers():
    try:
        with urllib.request.urlopen(f"{ENDPOINT}/health", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return False


def cli(*args):
    out = subprocess.run([APP, "--data-dir", DATA_DIR, *args], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"switchyard {' '.join(args)}: {out.stderr}"
    return out.stdout


# ---- X11: find the app's window, read whether it is shown, close it as a window manager would.
X11 = xdisplay.Display()


def app_windows():
    """Top-level windows titled Switchyard."""
    found = []

    def walk(w):
        try:
            name = w.get_wm_name()
            children = w.query_tree().children
        except Exception:  # noqa: BLE001 - windows come and go
            return
        if name == "Switchyard":
            found.append(w)
        for c in children:
            walk(c)

    walk(X11.screen().root)
    return found


def window_shown():
    return any(w.get_attributes().map_state == X.IsViewable for w in app_windows())


def close_window():
    wm_protocols = X11.intern_atom("WM_PROTOCOLS")
    delete = X11.intern_atom("WM_DELETE_WINDOW")
    for w in app_windows():
        if w.get_attributes().map_state == X.IsViewable:
            event = protocol.event.ClientMessage(window=w, client_type=wm_protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
            w.send_event(event)
    X11.flush()


# ---- The tray, as a panel sees it: the StatusNotifierItem's dbusmenu over the session bus.
def gdbus(*args):
    out = subprocess.run(["gdbus", "call", "--session", *args], capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return out.stdout


def tray_menu_address():
    names = gdbus("--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
                  "--method", "org.freedesktop.DBus.ListNames")
    for name in re.findall(r"':1\.\d+'", names):
        name = name.strip("'")
        tree = subprocess.run(["gdbus", "introspect", "--session", "--dest", name, "--object-path", "/",
                               "--recurse", "--only-properties"], capture_output=True, text=True, timeout=10).stdout
        for path in re.findall(r"node (/org/ayatana/NotificationItem/\S+?)/Menu\b", tree):
            return name, f"{path}/Menu"
        for path in re.findall(r"node (/\S*Menu)\b", tree):
            if "NotificationItem" in path:
                return name, path
    return None


def tray_items(address):
    name, path = address
    layout = gdbus("--dest", name, "--object-path", path, "--method", "com.canonical.dbusmenu.GetLayout", "--", "0", "-1", "[]")
    return {label: int(i) for i, label in re.findall(r"\((\d+), \{[^{}]*?'label': <'((?:[^'\\]|\\.)*)'>", layout)}


def tray_click(address, label_start):
    name, path = address
    items = tray_items(address)
    matches = [i for label, i in items.items() if label.startswith(label_start)]
    assert matches, f"no tray item starting with {label_start!r} in {list(items)}"
    gdbus("--dest", name, "--object-path", path, "--method", "com.canonical.dbusmenu.Event", "--",
          str(matches[0]), "clicked", "<int32 0>", "0")


def tray_labels(address):
    return list(tray_items(address))


# ---- Notifications, as a notification server would receive them (Notify calls on the bus).
monitor_log = open(os.path.join(SHOTS, "notifications.log"), "w")
monitor = subprocess.Popen(["dbus-monitor", "--session", "interface='org.freedesktop.Notifications',member='Notify'"],
                           stdout=monitor_log, stderr=subprocess.DEVNULL)


def notified(summary_start):
    with open(os.path.join(SHOTS, "notifications.log")) as f:
        return any(line.strip().startswith(f'string "{summary_start}') for line in f)


# ---- The session: tauri-driver starts the app with its arguments.
driver_proc = subprocess.Popen(["tauri-driver", "--port", str(DRIVER_PORT), "--native-port", str(NATIVE_PORT)],
                               stdout=sys.stderr, stderr=sys.stderr)
result = {}
driver = None
try:
    # tauri-driver answers first, then starts WebKitWebDriver behind it: wait for both.
    for port in (DRIVER_PORT, NATIVE_PORT):
        wait_until(f"port {port}", lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True)
    options = ArgOptions()
    options.set_capability("browserName", "wry")
    # The port the app is told to use is taken: it must say so and let the user pick another.
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    busy_port = busy.getsockname()[1]
    options.set_capability("tauri:options", {"application": APP, "args": ["--data-dir", DATA_DIR, "--port", str(busy_port)]})
    started = time.time()
    driver = webdriver.Remote(command_executor=f"http://127.0.0.1:{DRIVER_PORT}", options=options)
    wait = WebDriverWait(driver, 30)

    step("the window shows the dashboard, with no login")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, 'nav a[href="#/providers"]')))
    result["window_ready_ms"] = round((time.time() - started) * 1000)
    assert driver.find_elements(By.CSS_SELECTOR, "#password") == [], "the app asked for a password"
    # Errors the page logs (a Rust panic in the UI's wasm lands there) fail the test at the end.
    driver.execute_script("window.__errors = []; const log = console.error;"
                          "console.error = (...a) => { window.__errors.push(a.join(' ')); log(...a); };")

    step("a taken port: Settings says so, and another port is chosen there")
    driver.find_element(By.CSS_SELECTOR, 'nav a[href="#/settings"]').click()
    state = wait.until(ec.presence_of_element_located((By.ID, "gateway-state")))
    wait.until(lambda d: "already in use" in d.find_element(By.ID, "gateway-state").text)
    assert f"Port {busy_port}" in driver.find_element(By.ID, "gateway-state").text
    driver.save_screenshot(f"{SHOTS}/window-port-taken.png")
    port_input = driver.find_element(By.ID, "gateway-port")
    port_input.clear()
    port_input.send_keys(str(PORT))
    port_input.submit()
    wait.until(lambda d: f"Running on {ENDPOINT}" in d.find_element(By.ID, "gateway-state").text)
    wait_until("the gateway to listen", port_answers)
    busy.close()
    kept = json.loads(cli("settings", "list", "--json"))["port"]
    assert kept == PORT, f"the chosen port was not kept: the port setting is {kept}"

    step("start on login: the switch writes the autostart entry, started hidden")
    driver.find_element(By.ID, "autostart").click()
    entry = os.path.join(os.environ["HOME"], ".config", "autostart", "Switchyard.desktop")
    wait_until("the autostart entry", lambda: os.path.exists(entry))
    with open(entry) as f:
        autostart = f.read()
    assert "--hidden" in autostart, autostart

    driver.find_element(By.CSS_SELECTOR, 'nav a[href="#/overview"]').click()
    endpoint = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#endpoint-url"))).text.strip()
    assert endpoint == ENDPOINT, f"overview shows {endpoint}, expected {ENDPOINT}"
    driver.save_screenshot(f"{SHOTS}/window-overview.png")

    step("add a provider in the window (a Tauri command round trip)")
    driver.find_element(By.CSS_SELECTOR, 'nav a[href="#/providers"]').click()
    Select(wait.until(ec.presence_of_element_located((By.ID, "provider-choice")))).select_by_value("custom:openai")
    driver.find_element(By.ID, "provider-id").send_keys("mockai")
    driver.find_element(By.ID, "base-url").send_keys(MOCK_URL)
    driver.find_element(By.ID, "models").send_keys("mock-model")
    driver.find_element(By.ID, "api-key").send_keys("mock-key-1234567890")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, '[data-provider="mockai"] .account code')))
    listed = cli("provider", "list")
    assert "mockai" in listed, f"`switchyard provider list` lacks the provider added in the window:\n{listed}"
    driver.save_screenshot(f"{SHOTS}/window-providers.png")

    step("a request through the gateway shows in the window live (the usage event)")
    status, answer = chat()
    assert status == 200 and answer["choices"][0]["message"]["content"], answer
    counted = lambda: driver.find_element(By.CSS_SELECTOR, "nav .live").text  # noqa: E731
    try:
        wait_until("the window to count the request", lambda: counted().startswith("1 requests since"))
    except AssertionError as e:
        raise AssertionError(f"{e}; the window says {counted()!r}; page errors: "
                             f"{driver.execute_script('return window.__errors')}") from None

    step("settings: the gateway's status, and a quiet 'could not check' for updates offline")
    driver.find_element(By.CSS_SELECTOR, 'nav a[href="#/settings"]').click()
    state = wait.until(ec.presence_of_element_located((By.ID, "gateway-state")))
    assert f"Running on {ENDPOINT}" in state.text, state.text
    driver.find_element(By.ID, "update-check").click()
    wait.until(lambda d: "Could not check" in d.find_element(By.ID, "update-result").text)
    driver.save_screenshot(f"{SHOTS}/window-settings.png")

    step("the tray menu shows the endpoint, the last 24 hours and the switches")
    address = wait_until("the tray icon on D-Bus", tray_menu_address, timeout=20)
    labels = wait_until("the tray's numbers", lambda: (lambda l: l if any(x.startswith("Last 24 h: 1 requests") for x in l) else None)(tray_labels(address)))
    assert any(x.startswith(ENDPOINT) for x in labels), labels
    assert "Stop gateway" in labels and "Open dashboard" in labels and "Quit Switchyard" in labels, labels
    result["tray_menu"] = labels

    step("closing the window hides it; the app and the gateway keep running")
    assert window_shown(), "the window is not shown"
    close_window()
    wait_until("the window to hide", lambda: not window_shown())
    assert port_answers(), "the gateway stopped when the window closed"
    status, _ = chat("while hidden")
    assert status == 200

    step("a second launch opens the first one's window and exits")
    second = subprocess.run([APP, "--data-dir", DATA_DIR, "--port", str(PORT)], capture_output=True, text=True, timeout=30)
    assert second.returncode == 0, f"second launch: {second.returncode} {second.stderr}"
    wait_until("the window to show again", window_shown)

    step("stop and start the gateway from the tray")
    tray_click(address, "Stop gateway")
    wait_until("the port to close", lambda: not port_answers())
    wait_until("the menu to offer Start", lambda: "Start gateway" in tray_labels(address))
    tray_click(address, "Start gateway")
    wait_until("the port to answer again", port_answers)

    step("the default model submenu sets the `default` alias")
    cli("combo", "set", "coding", "mockai/mock-model")
    wait_until("the combo in the tray", lambda: "coding" in tray_labels(address), timeout=15)
    tray_click(address, "coding")
    wait_until("the alias", lambda: "coding" in cli("alias", "list"))
    status, _ = chat("via the default model", model="default")
    assert status == 200

    step("notifications: the taken port, an account out of quota, an account whose key is refused")
    assert notified("Switchyard is not listening"), "no notification of the taken port"
    cli("provider", "add", "quotaai", "--kind", "openai", "--base-url", MOCK_URL, "--models", "q", "--api-key", "fail-429-ra-3600")
    cli("provider", "add", "authai", "--kind", "openai", "--base-url", MOCK_URL, "--models", "a", "--api-key", "fail-401")
    wait_until("the exhausted account to be refused", lambda: status_of("quotaai/q") == 429)
    wait_until("the refused key to be reported", lambda: status_of("authai/a") == 401)
    wait_until("the out-of-quota notification", lambda: notified("quotaai account"))
    wait_until("the needs-login notification", lambda: notified("authai account"))

    step("Quit from the tray: the app exits and its usage records are written")
    app_pids = subprocess.run(["pgrep", "-f", f"{APP} --data-dir {DATA_DIR}"], capture_output=True, text=True).stdout.split()
    tray_click(address, "Quit Switchyard")
    wait_until("the app to exit", lambda: not port_answers() and not subprocess.run(
        ["pgrep", "-f", f"{APP} --data-dir {DATA_DIR}"], capture_output=True).stdout.strip(), timeout=40)
    log = json.loads(cli("usage", "log", "--json"))
    result["requests_recorded"] = len(log)
    assert len(log) >= 5, f"expected the 5+ requests in the usage log, got {len(log)}"
    result["result"] = "ok"
finally:
    if driver is not None:
        try:
            driver.quit()
        except Exception:  # noqa: BLE001 - the app quit from its tray already
            pass
    monitor.terminate()
    driver_proc.terminate()
    try:
        driver_proc.wait(10)
    except subprocess.TimeoutExpired:
        driver_proc.kill()
print(json.dumps(result), flush=True)
