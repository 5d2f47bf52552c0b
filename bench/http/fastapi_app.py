"""The FastAPI peer for bench/http: the same two routes as Argus, done the idiomatic way.

GET  /v1/whoami            bearer-key check, small JSON answer
POST /v1/diagnostics/echo  pydantic validation of the same document, echoed back
"""
import os
from typing import Dict, List, Optional

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel, Extra, conint, constr

KEY = os.environ["BENCH_KEY"]
app = FastAPI()


def auth(authorization: str = Header("")):
    if authorization != "Bearer " + KEY:
        raise HTTPException(status_code=401, detail="bad key")
    return {"key_id": "bench", "role": "admin"}


class Echo(BaseModel, extra=Extra.forbid):
    name: constr(min_length=1, max_length=200)
    values: List[float]
    tags: Optional[List[str]] = None
    enabled: Optional[bool] = None
    attributes: Optional[Dict[str, str]] = None
    count: Optional[conint(ge=0)] = None


@app.get("/v1/whoami")
def whoami(who=Depends(auth)):
    return {"key_id": who["key_id"], "key_name": "bench", "role": who["role"], "global": True,
            "namespace": None}


@app.post("/v1/diagnostics/echo")
def echo(body: Echo, who=Depends(auth)):
    return body.dict(exclude_none=True)
