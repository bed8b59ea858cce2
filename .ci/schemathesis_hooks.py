"""Schemathesis hooks for .ci/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

The tus PATCH body (`PATCH /api/v1/uploads/{id}`) is raw bytes with the media type
`application/offset+octet-stream`, which schemathesis has no serializer for: send it like
`application/octet-stream` (the document declares it `type: string, format: binary`).
"""

import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
