-- model/keras-unsafe-config: Keras models (.keras archives, legacy .h5)
-- whose configuration makes loading run arbitrary Python: Lambda layers
-- (their function is serialised code), objects from modules outside Keras
-- (loaded by importing that module), and Python files shipped inside the
-- archive.

local CODES = {
  ["keras-lambda"] = "a Lambda layer runs serialised Python code when the model is loaded "
    .. "with safe_mode=False (or by older Keras); replace it with a built-in or a registered "
    .. "custom layer",
  ["keras-custom-object"] = "loading imports a module outside Keras and constructs objects "
    .. "from it; make sure that module is your own reviewed code, or use built-in layers",
  ["keras-python-file"] = "Python source inside the model archive can be imported as a "
    .. "custom object; models should carry weights and configuration only",
}

return mlgate.policy {
  id = "model/keras-unsafe-config",
  title = "Keras models must not carry Lambda layers, foreign custom objects or Python code",
  description = [[
A Keras model's configuration is a recipe the loader follows: a Lambda layer
carries a Python function (as marshalled bytecode or source) that runs when
the model is loaded without safe_mode (Keras 2, or Keras 3 with
safe_mode=False), and an object whose module or registered name lies outside
the keras namespace makes the loader import that module. Both are the
"Keras Lambda" and "custom object" injection classes that modelscan reports.
Checked in Keras 3 .keras archives (config.json, and any .py file shipped
inside) and in legacy HDF5 .h5 models (the model_config attribute).]],
  remediation = [[
Rebuild the model with built-in layers, or with custom layers registered in
your own reviewed package (keras.saving.register_keras_serializable), load
it with safe_mode=True, and never ship Python files inside model archives.]],
  gate = "model",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0011.000", "AML.T0018.002", "AML.M0016", "AML.M0011"},
  aliases = {"catalog:ML-UNSAFE-ARTIFACT", "modelscan:KerasLambdaDetectScan",
             "modelscan:H5LambdaDetectScan"},
  files = {"**/*"},

  check = function(file, ctx)
    local r, err = mlgate.model.scan(file.path)
    if not r then return ctx:error(err) end
    for _, issue in ipairs(r.issues) do
      local why = CODES[issue.code]
      if why then
        ctx:fail{
          member = issue.member, offset = issue.offset,
          severity = issue.code == "keras-custom-object" and "medium" or nil,
          key = issue.code .. "@" .. (issue.member or "") .. "@" .. issue.message,
          message = ("%s: %s"):format(issue.message, why),
          details = {code = issue.code, format = r.format},
        }
      end
    end
  end,
}
