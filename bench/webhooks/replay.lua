-- wrk script: replays the first webhook delivery the receiver got (its path, headers and body,
-- from the JSON file named by $SAMPLE, flattened by run.sh into SAMPLE_* variables).
wrk.method = "POST"
wrk.path = os.getenv("SAMPLE_PATH")
wrk.body = io.open(os.getenv("SAMPLE_BODY")):read("*a")
for line in io.open(os.getenv("SAMPLE_HEADERS")):lines() do
  local name, value = line:match("^([^:]+): (.*)$")
  if name then wrk.headers[name] = value end
end
