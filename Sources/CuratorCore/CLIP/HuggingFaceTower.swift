import Foundation

/// One tower's part of a Hugging Face `config.json`: the tower's fields
/// nested under `<tower>_config` in a whole model's file (`model_type`
/// `clip` or `siglip`), or at the top of a tower-only model's file
/// (`clip_<tower>_model`, `siglip_<tower>_model`). The vision and text
/// configurations both locate their fields this way.
struct HuggingFaceTower {
    /// The file's top level (`CLIPModel` keeps `projection_dim` and `_name_or_path` there).
    let top: JSONFields
    /// The tower's own fields.
    let fields: JSONFields
    /// The model family `model_type` names.
    let family: ModelFamily

    /// Reads `url` for the tower `tower` ("vision" or "text"). A file without
    /// `model_type` is a whole model's when it has `<tower>_config`, else a
    /// tower-only model's if `untypedMayBeTowerOnly`; `missing` is the error
    /// for a whole model's file without `<tower>_config`.
    init(url: URL, tower: String, untypedMayBeTowerOnly: Bool, missing: (_ file: String) -> CLIPError) throws {
        let file = url.path
        let root = try JSONFile.object(at: url)
        top = JSONFields(root, file: file, prefix: "")
        let modelType = try top.string("model_type")
        let key = "\(tower)_config"
        let towerOnly = ["clip_\(tower)_model", "siglip_\(tower)_model"]
        family = modelType == "siglip" || modelType == towerOnly[1] ? .siglip : .clip
        if let modelType, towerOnly.contains(modelType) {
            fields = top
        } else if modelType == "clip" || modelType == "siglip" || (modelType == nil && (root[key] != nil || !untypedMayBeTowerOnly)) {
            guard let nested = root[key] as? [String: Any] else { throw missing(file) }
            fields = JSONFields(nested, file: file, prefix: "\(key).")
        } else if modelType == nil {
            fields = top
        } else if modelType == "siglip2" {
            throw CLIPError(.unsupported, file, "field 'model_type' is 'siglip2': SigLIP 2's NaFlex variant (variable resolution, Siglip2Model) is not supported; use a fixed-resolution SigLIP 2 checkpoint such as google/siglip2-large-patch16-256 (model_type 'siglip')")
        } else {
            throw CLIPError(.unsupported, file, "field 'model_type' is '\(modelType ?? "")'; supported: 'clip', '\(towerOnly[0])', 'siglip' and '\(towerOnly[1])'")
        }
    }
}
