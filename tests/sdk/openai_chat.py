"""The official OpenAI Python SDK against a running Switchyard (URL as argv[1])."""
import sys

import openai

client = openai.OpenAI(base_url=sys.argv[1], api_key="unused-on-loopback", max_retries=0)

done = client.chat.completions.create(
    model="mock/mock-model", messages=[{"role": "user", "content": "hi"}]
)
print("non-stream:", done.choices[0].message.content)

stream = client.chat.completions.create(
    model="mock/mock-model",
    messages=[{"role": "user", "content": "hi"}],
    stream=True,
    stream_options={"include_usage": True},
)
parts, usage = [], None
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        parts.append(chunk.choices[0].delta.content)
    if chunk.usage:
        usage = chunk.usage
print("stream:", "".join(parts))
print("usage:", usage.completion_tokens if usage else None)

print("models:", ",".join(m.id for m in client.models.list()))

try:
    client.chat.completions.create(model="nope/x", messages=[{"role": "user", "content": "hi"}])
except openai.APIStatusError as e:
    print("error:", type(e).__name__, e.status_code, e.message)
