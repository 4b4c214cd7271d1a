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

/// The fields every transformer tower has, which a Hugging Face config names
/// alike for the vision and the text tower.
protocol TransformerShape {
    var hiddenSize: Int { get set }
    var intermediateSize: Int { get set }
    var layers: Int { get set }
    var heads: Int { get set }
    var activation: CLIPActivation { get set }
    var layerNormEpsilon: Float { get set }
}

extension CLIPVisionConfiguration: TransformerShape {}
extension CLIPTextConfiguration: TransformerShape {}

extension HuggingFaceTower {
    /// Overrides `config`'s transformer shape with what the tower's fields
    /// state (`hidden_size`, `intermediate_size`, `num_hidden_layers`,
    /// `num_attention_heads`, `hidden_act`, `layer_norm_eps`); what they
    /// leave out keeps the defaults already in `config`.
    func readShape<Configuration: TransformerShape>(into config: inout Configuration) throws {
        config.hiddenSize = try fields.positiveInt("hidden_size") ?? config.hiddenSize
        config.intermediateSize = try fields.positiveInt("intermediate_size") ?? config.intermediateSize
        config.layers = try fields.positiveInt("num_hidden_layers") ?? config.layers
        config.heads = try fields.positiveInt("num_attention_heads") ?? config.heads
        config.activation = try fields.activation("hidden_act") ?? config.activation
        if let eps = try fields.number("layer_norm_eps") { config.layerNormEpsilon = Float(eps) }
    }
}
