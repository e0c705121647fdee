"""Drives a running Switchyard with an official SDK, against every upstream kind.

usage: conformance.py GATEWAY_URL INBOUND UPSTREAM...
  INBOUND: openai-chat | responses | anthropic | gemini
  UPSTREAM: provider ids configured in the gateway (their model is PROVIDER/mock-model)

Prints one JSON line per case: what the SDK objects contained (text, tool call, reasoning,
finish reason, usage), or the exception it raised. The Rust test asserts on these lines.
"""
import json
import sys
import traceback

URL, INBOUND, UPSTREAMS = sys.argv[1], sys.argv[2], sys.argv[3:]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"], "additionalProperties": False}
CASES = ["text", "tool", "followup", "think", "parallel"]
PROMPT = {"tool": "please use the tool", "followup": "please use the tool", "parallel": "please use both tools"}


def report(upstream, stream, case, **fields):
    print(json.dumps({"inbound": INBOUND, "upstream": upstream, "stream": stream, "case": case, **fields}), flush=True)


# ---------------------------------------------------------------- OpenAI Chat Completions
def openai_chat(model, stream, case):
    import openai

    c = openai.OpenAI(base_url=URL + "/v1", api_key="sk-unused", max_retries=0)
    tools = [{"type": "function", "function": {"name": n, "description": "Weather of a city", "parameters": SCHEMA}} for n in ("get_weather", "get_time")]
    kw = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if case in PROMPT:
        kw.update(tools=tools, messages=[{"role": "user", "content": PROMPT[case]}])
    if case == "followup":
        kw["messages"] += [
            {"role": "assistant", "content": None, "tool_calls": [{"id": "call_x1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
            {"role": "tool", "tool_call_id": "call_x1", "content": "sunny"},
        ]
    if case == "think":
        kw["reasoning_effort"] = "high"
    if not stream:
        r = c.chat.completions.create(**kw)
        m = r.choices[0].message
        calls = [(t.id, t.function.name, json.loads(t.function.arguments)) for t in (m.tool_calls or [])]
        reasoning = (m.model_extra or {}).get("reasoning_content")
        return dict(text=m.content, calls=calls, reasoning=reasoning, finish=r.choices[0].finish_reason,
                    input_tokens=r.usage.prompt_tokens, output_tokens=r.usage.completion_tokens)
    text, reasoning, calls, finish, usage = "", "", {}, None, None
    for chunk in c.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kw):
        if chunk.usage:
            usage = chunk.usage
        if not chunk.choices:
            continue
        d = chunk.choices[0].delta
        text += d.content or ""
        reasoning += (d.model_extra or {}).get("reasoning_content") or ""
        for t in d.tool_calls or []:
            slot = calls.setdefault(t.index, {"id": None, "name": "", "args": ""})
            slot["id"] = slot["id"] or t.id
            slot["name"] += (t.function.name or "") if t.function else ""
            slot["args"] += (t.function.arguments or "") if t.function else ""
        finish = chunk.choices[0].finish_reason or finish
    calls = [(s["id"], s["name"], json.loads(s["args"])) for _, s in sorted(calls.items())]
    return dict(text=text or None, calls=calls, reasoning=reasoning or None, finish=finish,
                input_tokens=usage.prompt_tokens if usage else None, output_tokens=usage.completion_tokens if usage else None)


# ---------------------------------------------------------------- OpenAI Responses
def responses(model, stream, case):
    import openai

    c = openai.OpenAI(base_url=URL + "/v1", api_key="sk-unused", max_retries=0)
    kw = {"model": model, "input": "hi", "instructions": "Be brief."}
    if case in PROMPT:
        kw.update(tools=[{"type": "function", "name": n, "description": "Weather of a city", "parameters": SCHEMA, "strict": True} for n in ("get_weather", "get_time")],
                  input=PROMPT[case])
    if case == "followup":
        kw["input"] = [
            {"role": "user", "content": "please use the tool"},
            {"type": "function_call", "call_id": "call_x1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
            {"type": "function_call_output", "call_id": "call_x1", "output": "sunny"},
        ]
    if case == "think":
        kw["reasoning"] = {"effort": "high", "summary": "auto"}
    if stream:
        r, deltas = None, ""
        for event in c.responses.create(stream=True, **kw):
            if event.type == "response.output_text.delta":
                deltas += event.delta
            if event.type in ("response.completed", "response.incomplete"):
                r = event.response
        if r is None:
            raise RuntimeError("no response.completed event")
        if deltas != r.output_text:
            raise RuntimeError(f"streamed text {deltas!r} differs from the final {r.output_text!r}")
    else:
        r = c.responses.create(**kw)
    calls = [(o.call_id, o.name, json.loads(o.arguments)) for o in r.output if o.type == "function_call"]
    reasoning = " ".join(s.text for o in r.output if o.type == "reasoning" for s in (o.summary or [])) or None
    return dict(text=r.output_text or None, calls=calls, reasoning=reasoning, finish=r.status,
                input_tokens=r.usage.input_tokens, output_tokens=r.usage.output_tokens)


# ---------------------------------------------------------------- Anthropic Messages
def anthropic_messages(model, stream, case):
    import anthropic

    c = anthropic.Anthropic(base_url=URL, api_key="sk-unused", max_retries=0)
    kw = {"model": model, "max_tokens": 256, "system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]}
    if case in PROMPT:
        kw.update(tools=[{"name": n, "description": "Weather of a city", "input_schema": SCHEMA} for n in ("get_weather", "get_time")],
                  messages=[{"role": "user", "content": PROMPT[case]}])
    if case == "followup":
        kw["messages"] += [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_x1", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x1", "content": "sunny"}]},
        ]
    if case == "think":
        kw.update(thinking={"type": "enabled", "budget_tokens": 2048}, max_tokens=4096)
    if stream:
        with c.messages.stream(**kw) as s:
            r = s.get_final_message()
    else:
        r = c.messages.create(**kw)
    text = "".join(b.text for b in r.content if b.type == "text") or None
    calls = [(b.id, b.name, b.input) for b in r.content if b.type == "tool_use"]
    reasoning = "".join(b.thinking for b in r.content if b.type == "thinking") or None
    return dict(text=text, calls=calls, reasoning=reasoning, finish=r.stop_reason,
                input_tokens=r.usage.input_tokens, output_tokens=r.usage.output_tokens)


# ---------------------------------------------------------------- Gemini
def gemini(model, stream, case):
    from google import genai
    from google.genai import types

    c = genai.Client(api_key="unused", http_options=types.HttpOptions(base_url=URL, api_version="v1beta"))
    config = types.GenerateContentConfig(system_instruction="Be brief.")
    contents = "hi"
    if case in PROMPT:
        decls = [types.FunctionDeclaration(name=n, description="Weather of a city", parameters_json_schema=SCHEMA) for n in ("get_weather", "get_time")]
        config.tools = [types.Tool(function_declarations=decls)]
        config.automatic_function_calling = types.AutomaticFunctionCallingConfig(disable=True)
        contents = PROMPT[case]
    if case == "followup":
        contents = [
            types.Content(role="user", parts=[types.Part(text="please use the tool")]),
            types.Content(role="model", parts=[types.Part(function_call=types.FunctionCall(name="get_weather", args={"city": "Paris"}))]),
            types.Content(role="user", parts=[types.Part(function_response=types.FunctionResponse(name="get_weather", response={"result": "sunny"}))]),
        ]
    if case == "think":
        config.thinking_config = types.ThinkingConfig(thinking_budget=2048, include_thoughts=True)
    chunks = list(c.models.generate_content_stream(model=model, contents=contents, config=config)) if stream else \
        [c.models.generate_content(model=model, contents=contents, config=config)]
    text, reasoning, calls, finish, usage = "", "", [], None, None
    for r in chunks:
        if r.usage_metadata:
            usage = r.usage_metadata
        for cand in r.candidates or []:
            finish = cand.finish_reason or finish
            for p in (cand.content.parts if cand.content and cand.content.parts else []):
                if p.thought and p.text:
                    reasoning += p.text
                elif p.text:
                    text += p.text
                if p.function_call:
                    calls.append((p.function_call.id, p.function_call.name, dict(p.function_call.args or {})))
    return dict(text=text or None, calls=calls, reasoning=reasoning or None, finish=str(finish.value if hasattr(finish, "value") else finish),
                input_tokens=usage.prompt_token_count if usage else None,
                output_tokens=(usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0) if usage else None)


RUN = {"openai-chat": openai_chat, "responses": responses, "anthropic": anthropic_messages, "gemini": gemini}[INBOUND]
for upstream in UPSTREAMS:
    for stream in (False, True):
        for case in CASES:
            try:
                report(upstream, stream, case, **RUN(f"{upstream}/mock-model", stream, case))
            except Exception as e:  # the test shows what failed, case by case
                report(upstream, stream, case, error=f"{type(e).__name__}: {e}", trace=traceback.format_exc()[-1500:])
