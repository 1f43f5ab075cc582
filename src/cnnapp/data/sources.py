"""The catalog of public sources: every dataset cnnapp can download, pinned to a commit, with its content checksum.

This is the one place where the sources' URLs are written. A checksum is over the content as unpacked, not over the
download (a host may rebuild an archive with other bytes): for a folder, the SHA-256 of the sorted listing of its
image files as `sha256sum` prints it (`<sha256>  <folder>/<path>` a line); for a single file, that file's SHA-256.
"""

from dataclasses import dataclass, field

from cnnapp.errors import CnnappError

TIMEOUT = 30.0
"""Seconds to wait for a source's connection or for the next bytes of its answer."""
GITHUB = "https://github.com"
"""The host every source URL starts with; a mirror replaces it."""


@dataclass(frozen=True)
class Source:
    """Where a named dataset comes from and what it must be once unpacked.

    `target` is the file or folder it becomes under the data directory. For an archive, `members` maps a path
    inside the archive's one top folder to a path under the data directory (inside `target`), in the order they
    are placed; a plain file has no members and is placed as `target` itself. `licence` says on what terms its
    photos may be shown.
    """

    name: str
    url: str
    target: str
    checksum: str
    members: dict[str, str] = field(default_factory=dict)
    licence: str = ""


SOURCES = {
    "sign-digits": Source(
        name="sign-digits",
        url=f"{GITHUB}/ardamavi/Sign-Language-Digits-Dataset/archive/4b09433ef9d5c60602e8805bb54b8aa2428527f8.zip",
        target="sign-language-digits",
        checksum="817e053c8199a7a863fb308b159490d2cef589ac706a038d086cdcad2e72c086",
        members={
            "Dataset": "sign-language-digits",
            "LICENSE": "sign-language-digits/LICENSE",
            "README.md": "sign-language-digits/README.upstream.md",
        },
        licence="Apache-2.0 (sign-language-digits/LICENSE)",
    ),
    "smiles": Source(
        name="smiles",
        url=f"{GITHUB}/hromi/SMILEsmileD/archive/6afac66f50061948eed7da5a351cecd9c4a99fe3.zip",
        target="smiles",
        checksum="e9344288a6f37dc93ab530c1ac26f205dda175a738f27a2428267146e2b8a9a4",
        members={
            "SMILEs/negatives/negatives7": "smiles/negatives",
            "SMILEs/positives/positives7": "smiles/positives",
            "README": "smiles/README.upstream",
        },
        licence="as published by its author (smiles/README.upstream)",
    ),
    "happy-house": Source(
        name="happy-house",
        url=f"{GITHUB}/cristian904/happy-house-dataset/raw/405dd988c204597434a0d9789761ee223016666b/dataset/test_happy.h5",
        target="test_happy.h5",
        checksum="5e23db2f28769de83214dce1411e651489d713f9e1ec5d1ca6a61b6222115add",
        licence="course material",
    ),
}


def mirrored(url: str, mirror: str | None) -> str:
    """The URL with `https://github.com` replaced by the mirror's base URL, when there is a mirror."""
    if not mirror:
        return url
    if not mirror.startswith(("http://", "https://")):
        raise CnnappError(
            f"mirror {mirror} (--mirror or CNNAPP_MIRROR): not a base URL starting with http:// or https://"
        )
    return mirror.rstrip("/") + url[len(GITHUB) :]
