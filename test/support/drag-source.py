#!/usr/bin/env python3
"""A small window that offers files by drag and drop, as a file manager does (XDND).

The tests drag from it with xdotool onto a headed browser on a virtual display: the browser then
receives a drop from the window system itself, the way a user's drag arrives, trusted, with real
files (Firefox's WebDriver BiDi has no command for a drag of files from outside the page).

Usage: drag-source.py X Y FILE...   (opens at X,Y; prints "ready" once shown; exits after one drag)
"""
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402


def main() -> None:
    x, y = int(sys.argv[1]), int(sys.argv[2])
    uris = [GLib.filename_to_uri(p, None) for p in sys.argv[3:]]
    win = Gtk.Window(type=Gtk.WindowType.POPUP)  # placed where asked: no window manager runs
    win.set_default_size(120, 80)
    win.move(x, y)
    box = Gtk.EventBox()
    box.add(Gtk.Label(label="files"))
    box.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
    box.drag_source_add_uri_targets()
    box.connect("drag-data-get", lambda _w, _c, data, _i, _t: data.set_uris(uris))
    box.connect("drag-end", lambda *_: GLib.timeout_add(200, Gtk.main_quit))
    win.add(box)
    win.connect("map-event", lambda *_: print("ready", flush=True))
    win.show_all()
    GLib.timeout_add_seconds(60, Gtk.main_quit)  # never outlive a test that forgot it
    Gtk.main()


if __name__ == "__main__":
    main()
