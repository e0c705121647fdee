"""Embeddings through a running Switchyard with the official SDKs.

usage: embeddings.py GATEWAY_URL MODEL
Prints one JSON line per SDK call: the number of vectors, their sizes and the first values,
or the exception raised. The openai SDK asks for base64 vectors by default and decodes them
itself; google-genai calls :batchEmbedContents (several texts) or :embedContent.
"""
import json
import sys
import traceback

URL, MODEL = sys.argv[1], sys.argv[2]


def report(case, **fields):
    print(json.dumps({"case": case, **fields}), flush=True)


def run(case, fn):
    try:
        vectors = fn()
        report(case, count=len(vectors), sizes=[len(v) for v in vectors], first=[round(float(v[0]), 6) for v in vectors])
    except Exception as e:  # the test asserts on what went wrong
        report(case, error=f"{type(e).__name__}: {e}", trace=traceback.format_exc(limit=2))


def openai_many():
    import openai

    c = openai.OpenAI(base_url=URL + "/v1", api_key="sk-unused", max_retries=0)
    r = c.embeddings.create(model=MODEL, input=["alpha", "beta"], dimensions=4)
    return [d.embedding for d in r.data]


def openai_float():
    import openai

    c = openai.OpenAI(base_url=URL + "/v1", api_key="sk-unused", max_retries=0)
    r = c.embeddings.create(model=MODEL, input="alpha", encoding_format="float")
    return [d.embedding for d in r.data]


def genai_batch():
    from google import genai
    from google.genai import types

    c = genai.Client(api_key="unused", http_options=types.HttpOptions(base_url=URL, api_version="v1beta"))
    r = c.models.embed_content(model=MODEL, contents=["alpha", "beta"], config=types.EmbedContentConfig(output_dimensionality=4))
    return [e.values for e in r.embeddings]


run("openai-base64", openai_many)
run("openai-float", openai_float)
run("genai", genai_batch)
