"""core/forensics.py on layer records shaped like the adapter's (`Daemon.image_layers`)."""
from troubleshoot.boundary import convert
from troubleshoot.core import schema
from troubleshoot.core.forensics import analyze

RECORD = convert({
    "history": [{"created_by": "ADD file:abc in /"}, {"created_by": "ENV A=1", "empty_layer": True},
                {"created_by": "/bin/sh -c apt-get install -y build-essential"},
                {"created_by": "/bin/sh -c rm -rf /var/lib/apt/lists/* /root/.env && echo v2 > /app/main.js"},
                {"created_by": "/bin/sh -c #(nop) COPY dir:x in /srv"}],
    "layers": [
        {"id": "l1", "size": 3000, "files": [["/app/main.js", 1000], ["/root/.env", 20], ["/srv/old/a", 1000]],
         "deleted": [], "opaque": [], "secrets": [["/root/.env", 20, True]]},
        {"id": "l2", "size": 9000, "files": [["/usr/bin/gcc", 4000], ["/var/lib/apt/lists/x", 5000]],
         "deleted": [], "opaque": [], "secrets": []},
        {"id": "l3", "size": 10, "files": [["/app/main.js", 10]], "deleted": ["/var/lib/apt/lists", "/root/.env"],
         "opaque": [], "secrets": []},
        {"id": "l4", "size": 5, "files": [["/srv/new", 5]], "deleted": [], "opaque": ["/srv"], "secrets": []},
    ],
}, schema.ImageLayers, "layers")


def test_layers_get_their_instruction_skipping_empty_ones():
    f = analyze(RECORD)
    assert [l.created_by.split()[-1] for l in f.layers] == ["/", "build-essential", "/app/main.js", "/srv"]
    assert f.largest(1)[0].index == 2


def test_wasted_bytes_overwritten_deleted_and_hidden_by_opaque_dirs():
    f = analyze(RECORD)
    why = {p: w for p, _b, w in f.wasted}
    assert f.wasted_bytes == 1000 + 5000 + 20 + 1000
    assert why["/app/main.js"].startswith("overwritten in layer 3")
    assert why["/var/lib/apt/lists/x"].startswith("deleted in layer 3")
    assert why["/srv/old/a"].startswith("hidden by an opaque directory in layer 4")


def test_build_tools_are_what_remains_and_deleted_secrets_are_still_found():
    f = analyze(RECORD)
    assert [t[0] for t in f.build_tools] == ["compilers (gcc/g++/clang)"]  # the apt lists were deleted
    (secret,) = f.secret_files
    assert (secret.path, secret.layer, secret.deleted_in, secret.has_token) == ("/root/.env", 1, 3, True)
