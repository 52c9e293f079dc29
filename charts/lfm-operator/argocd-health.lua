-- Argo CD health check for serving.lfm-operator.io/LfmDeployment. The same verdict as kstatus (Flux):
-- a generation the operator has not observed is Progressing; Stalled=True is Degraded (it cannot progress without a
-- change in Git: does not fit, invalid, name conflict, rollout past its deadline); Reconciling=True is Progressing;
-- Ready=True is Healthy (Suspended when scaled to zero by hand); anything else is Progressing.
-- Lua 5.1 with only the base and table libraries, as Argo CD runs checks from argocd-cm.
local hs = { status = "Progressing", message = "Waiting for the operator to observe the LfmDeployment" }
if obj.status == nil or obj.status.observedGeneration == nil then
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and obj.status.observedGeneration ~= generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local conditions = {}
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type ~= nil then
      conditions[c.type] = c
    end
  end
end

local function describe(c)
  local text = c.type .. "=" .. tostring(c.status)
  if c.reason ~= nil and c.reason ~= "" then
    text = text .. " (" .. c.reason .. ")"
  end
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

local stalled = conditions["Stalled"]
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

local reconciling = conditions["Reconciling"]
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = describe(reconciling)
  return hs
end

local ready = conditions["Ready"]
if ready == nil then
  hs.message = "Waiting for the Ready condition"
  return hs
end
-- A condition computed from an older generation says nothing about this one.
if ready.observedGeneration ~= nil and generation ~= nil and ready.observedGeneration ~= generation then
  hs.message = "Waiting for the Ready condition of generation " .. tostring(generation)
  return hs
end
if ready.status == "True" then
  local autoscaled = obj.spec ~= nil and obj.spec.autoscaling ~= nil and obj.spec.autoscaling.enabled == true
  if not autoscaled and obj.spec ~= nil and obj.spec.replicas == 0 then
    hs.status = "Suspended"
    hs.message = "Scaled to zero replicas (spec.replicas: 0)"
    return hs
  end
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end
hs.message = describe(ready)
return hs
