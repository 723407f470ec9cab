// The model is made of JSON values: every module that imports PodModel sees PodJSON's
// JSONValue, JSONObject, parsers and writers as before they had a module of their own.
@_exported import PodJSON
