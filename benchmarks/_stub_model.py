"""An OpenAI-compatible model server on loopback that streams a fixed answer after a fixed delay, with any number
of requests at once: a stand-in for a model server with many parallel slots (vLLM, llama.cpp with several slots),
so a benchmark measures the workbench's own work and not a model's."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StubModelServer:
    def __init__(self, answer: str = "Paris is the capital of France.", delay_s: float = 0.1) -> None:
        self.answer = answer
        self.delay_s = delay_s
        self.requests = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests += 1
                time.sleep(stub.delay_s)
                if body.get("stream"):
                    self._stream(body.get("model", "stub"))
                else:
                    message = {"role": "assistant", "content": stub.answer}
                    usage = {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}
                    self._json({"id": "c", "object": "chat.completion", "created": 0, "model": body.get("model"),
                                "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                                "usage": usage})  # fmt: skip

            def _stream(self, model: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                words = stub.answer.split(" ")
                for i, word in enumerate(words):
                    self._event({"choices": [{"index": 0, "delta": {"content": word + (" " if i < len(words) - 1
                                                                                     else "")}}]}, model)  # fmt: skip
                self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 20, "completion_tokens": len(words),
                                       "total_tokens": 20 + len(words)}}, model)  # fmt: skip
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _event(self, chunk: dict[str, Any], model: str) -> None:
                payload = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": model, **chunk}
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())

            def _json(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def models_env(self, model_id: str = "stub") -> str:
        """WORKBENCH_LLM__MODELS for a catalog holding this server as `model_id`."""
        return json.dumps([{"id": model_id, "provider": "openai_compatible", "model": model_id,
                            "base_url": self.base_url}])  # fmt: skip

    def __enter__(self) -> StubModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
