-- pipeline/unpinnable-action: this repository's actions that consumers
-- cannot pin effectively because they pull mutable code themselves: a
-- Docker action whose image is not digest-pinned (`image: docker://x:tag`,
-- or a Dockerfile whose FROM is not), or a composite action whose steps use
-- actions or images that are not pinned (poutine's unpinnable_action).

local P = mlgate.pipeline

local function digest_pinned(ref)
  return ref:find("@sha256:%x+") ~= nil
end

local function is_sha(ref)
  return ref and #ref == 40 and not ref:find("[^0-9a-fA-F]")
end

-- Unpinned FROM lines of a Dockerfile: {{line, image}}.
local function unpinned_froms(src)
  local out, stages = {}, {}
  local cont = ""
  for n, line in mlgate.text.lines(src) do
    local l = cont .. line
    if l:match("\\%s*$") then
      cont = l:gsub("\\%s*$", " ")
    else
      cont = ""
      local rest = l:match("^%s*[Ff][Rr][Oo][Mm]%s+(.*)$")
      if rest then
        local words = {}
        for w in rest:gmatch("%S+") do words[#words + 1] = w end
        local i = 1
        while words[i] and words[i]:match("^%-%-") do i = i + 1 end
        local img = words[i]
        if img then
          local alias = words[i + 1] and words[i + 1]:lower() == "as" and words[i + 2]
          local low = img:lower()
          if low ~= "scratch" and not stages[low] and not img:find("%$") and not digest_pinned(img) then
            out[#out + 1] = {line = n, image = img}
          end
          if alias then stages[alias:lower()] = true end
        end
      end
    end
  end
  return out
end

return mlgate.policy {
  id = "pipeline/unpinnable-action",
  title = "Actions published from this repository must be pinnable",
  description = [[
Checks the repository's own actions (action.yml): a Docker action whose
`image:` is `docker://name:tag` without a digest, or a Dockerfile whose
`FROM` images are not digest-pinned, and a composite action whose steps use
other actions by tag or branch or unpinned docker:// images. Consumers who
pin this action to a full commit SHA still get whatever those mutable
references point to at run time, so their pin protects nothing. For ML
teams that publish shared actions (model evaluation, dataset validation,
deployment helpers) this turns one upstream compromise into a compromise of
every consumer.]],
  remediation = [[
Pin what the action pulls:

    runs:
      using: docker
      image: docker://ghcr.io/org/evaluator@sha256:<digest>

In a Dockerfile: `FROM python:3.12-slim@sha256:<digest>`. In composite
actions: `uses: actions/setup-python@<full commit sha> # v5.6.0`.]],
  gate = "pipeline",
  severity = "low",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.M0013"},
  aliases = {"catalog:PIN-UNPINNABLE", "poutine:unpinnable_action"},
  references = {
    "https://github.com/boostsecurityio/poutine/blob/main/docs/content/en/rules/unpinnable_action.md",
  },
  files = {"**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or m.kind ~= "action" or not m.runs then return end
    local runs = m.runs
    local using = runs.using and runs.using.text and runs.using.text:lower() or ""
    if using == "docker" and runs.image then
      local img = runs.image
      if img.raw and not img.text then
        if img.pin ~= "digest" and img.pin ~= "expr" then
          ctx:fail{
            message = ("The action runs the image %s, which is not pinned by digest, so pinning "
              .. "this action's commit does not pin the code it runs; use IMAGE@sha256:<digest>.")
              :format(img.raw),
            line = img.line, column = img.col, key = "runs.image",
            details = {image = img.raw},
          }
        end
      elseif img.text then
        local path = mlgate.path.join(mlgate.path.dirname(file.path), img.text)
        local src = mlgate.fs.read(path, 1 << 20)
        if src then
          local bad = unpinned_froms(src)
          if #bad > 0 then
            local list = {}
            for _, b in ipairs(bad) do list[#list + 1] = ("%s (line %d)"):format(b.image, b.line) end
            ctx:fail{
              message = ("The action builds %s, whose base image(s) %s are not pinned by digest, "
                .. "so pinning this action's commit does not pin what it runs; pin FROM to "
                .. "IMAGE@sha256:<digest>."):format(img.text, table.concat(list, ", ")),
              line = img.line, column = img.col, key = "runs.image:" .. img.text,
              details = {dockerfile = path, from = list},
            }
          end
        end
      end
    elseif using == "composite" then
      local list, first = {}, nil
      for _, step in ipairs(m.steps or {}) do
        local u = step.uses
        if u and ((u.kind == "action" or u.kind == "reusable") and not is_sha(u.ref)
                  or u.kind == "docker" and u.image and u.image.pin ~= "digest") then
          list[#list + 1] = u.raw
          first = first or u
        end
      end
      if first then
        ctx:fail{
          message = ("This composite action uses %s without a commit or digest pin, so pinning "
            .. "the action itself does not pin the code it runs; pin each of them.")
            :format(table.concat(list, ", ")),
          line = runs.using.line, column = runs.using.col, key = "runs.using",
          details = {mutable = list},
        }
      end
    end
  end,
}
