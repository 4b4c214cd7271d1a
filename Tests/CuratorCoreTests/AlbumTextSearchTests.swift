import Foundation
import XCTest
@testable import CuratorCore

/// Text search over an album: the paired text tower, scores, top-k, labels,
/// prompt-narrowed selections; and which model folder pairs with which vectors.
final class AlbumTextSearchTests: XCTestCase {
    func testTopScoresEqualsAFullSort() {
        var generator = Xoshiro256StarStar(seed: 5)
        var scores = (0..<5000).map { _ in Float(generator.nextDouble()) }
        for i in stride(from: 0, to: 5000, by: 97) { scores[i] = 0.5 }  // ties
        let sorted = scores.enumerated().sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }
        scores.withUnsafeBufferPointer { buffer in
            for k in [1, 7, 100, 5000, 6000] {
                let top = TopScores.select(buffer, k: k, minimum: nil)
                XCTAssertEqual(top.map(\.row), sorted.prefix(k).map(\.offset), "k=\(k)")
            }
            let above = TopScores.select(buffer, k: nil, minimum: 0.9)
            XCTAssertEqual(above.map(\.row), sorted.filter { $0.element >= 0.9 }.map(\.offset))
            let both = TopScores.select(buffer, k: 10, minimum: 0.9999)
            XCTAssertEqual(both.map(\.row), Array(sorted.filter { $0.element >= 0.9999 }.prefix(10).map(\.offset)))
        }
    }

    /// An album of `n` small PNGs embedded by `model` (the "clip" embedder runs SigLIP models too).
    private func album(embeddedBy model: URL, _ n: Int = 6) throws -> (Album, TemporaryFolder) {
        let folder = TemporaryFolder()
        for i in 0..<n { folder.writePNG("img\(i).png", size: 40, seed: i) }
        let album = try Album.open(folder.path, options: .init(embedder: "clip", model: model))
        return (album, folder)
    }

    private func clipAlbum(_ n: Int = 6) throws -> (Album, TemporaryFolder) {
        try album(embeddedBy: CLIPFixture.huggingFaceModel, n)
    }

    func testSearchScoresAreCosinesWithThePromptsVector() throws {
        let (album, _) = try clipAlbum()
        XCTAssertEqual(album.embedder, "clip")
        let encoder = try album.textEncoder()
        XCTAssertEqual(encoder.modelFolder.standardizedFileURL.path, CLIPFixture.huggingFaceModel.standardizedFileURL.path)
        let text = try encoder.embed(["a dog on a beach"])
        let matrix = try album.matrix()
        let hits = try album.search(SearchQuery(text: "a dog on a beach"), k: 3)
        XCTAssertEqual(hits.count, 3)
        for hit in hits {
            let row = matrix.rowOf[hit.imageID]!
            XCTAssertEqual(hit.score, BLAS.dot(encoder.dimension, text.row(0), matrix.matrix.row(row)), accuracy: 1e-5)
        }
        // Labels: each image's best label, scored as its search would score it.
        let labels = try album.labels(["portrait", "landscape", "a dog"])
        XCTAssertEqual(labels.count, matrix.matrix.rows)
        let phrases = try encoder.embed(["portrait", "landscape", "a dog"])
        for label in labels {
            let row = matrix.rowOf[label.imageID]!
            let all = (0..<3).map { BLAS.dot(encoder.dimension, phrases.row($0), matrix.matrix.row(row)) }
            XCTAssertEqual(label.score, all.max()!, accuracy: 1e-5)
            XCTAssertEqual(label.label, all.firstIndex(of: all.max()!))
        }
    }

    func testPromptNarrowsTheCandidatesBeforeTheSampler() throws {
        let (album, _) = try clipAlbum(8)
        let scores = try album.scores(SearchQuery(text: "woman in a red dress"))
        let cut = scores.sorted()[4]
        var options = SelectOptions(method: "fps", count: 2, iterations: 3, seed: 1)
        options.prompt = SearchQuery(text: "woman in a red dress")
        options.promptMinimum = cut
        let run = try album.select(options)
        XCTAssertEqual(run.candidates, scores.filter { $0 >= cut }.count)
        XCTAssertEqual(run.parameters["prompt"], "\"woman in a red dress\"")
        options.promptMinimum = 5
        XCTAssertThrowsError(try album.select(options)) { error in
            XCTAssertTrue("\(error)".contains("lower min_score"), "\(error)")
        }
    }

    func testModelIDsFindTheirFolder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("curator-models-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let locator = CLIPModelLocator(roots: [root])
        // PhotoMapAI's default model, not installed: what to download and where.
        // (open_clip's 'dfn2b_s39b' is apple/DFN2B-CLIP-ViT-L-14-39B, not the quick-GELU 'dfn2b' checkpoint.)
        XCTAssertThrowsError(try locator.folder(forModelID: "open-clip:ViT-L-14/dfn2b_s39b")) { error in
            XCTAssertTrue("\(error)".contains("the Hugging Face page of apple/DFN2B-CLIP-ViT-L-14-39B"), "\(error)")
            XCTAssertTrue("\(error)".contains(root.appendingPathComponent("DFN2B-CLIP-ViT-L-14-39B").path + "/"), "\(error)")
            XCTAssertTrue("\(error)".contains("bpe_simple_vocab_16e6.txt.gz"), "\(error)")
        }
        XCTAssertThrowsError(try locator.folder(forModelID: "openai-clip:ViT-B/32")) { error in
            XCTAssertTrue("\(error)".contains("openai/clip-vit-base-patch32"), "\(error)")
        }
        // Installed under its known name (the DFN-2B layout fixture stands in for it).
        let dfn = root.appendingPathComponent("DFN2B-CLIP-ViT-L-14-39B")
        try FileManager.default.copyItem(at: CLIPFixture.dfn2bModel, to: dfn)
        XCTAssertEqual(try locator.folder(forModelID: "open-clip:ViT-L-14/dfn2b_s39b").path, dfn.path)
        XCTAssertThrowsError(try locator.folder(forModelID: "open-clip:ViT-L-14/dfn2b"), "the 12.8B-sample checkpoint is another model")
        XCTAssertFalse(CLIPKnownModel.sameModel("open-clip:ViT-L-14/dfn2b", "open-clip:ViT-L-14/dfn2b_s39b"))
        XCTAssertTrue(CLIPKnownModel.sameModel("openai-clip:ViT-B/32", "hf:openai/clip-vit-base-patch32"))
        XCTAssertFalse(CLIPKnownModel.sameModel("openai-clip:ViT-B/32", "open-clip:ViT-L-14/dfn2b_s39b"))
        // curator's own ids name the folder; an unknown id lists what is installed.
        let tiny = root.appendingPathComponent("tiny-hf")
        try FileManager.default.copyItem(at: CLIPFixture.huggingFaceModel, to: tiny)
        XCTAssertEqual(try locator.folder(forModelID: "hf:tiny-hf").path, tiny.path)
        XCTAssertThrowsError(try locator.folder(forModelID: "my-model")) { error in
            XCTAssertTrue("\(error)".contains("no installed model made these vectors (model my-model; installed: DFN2B-CLIP-ViT-L-14-39B, tiny-hf)"), "\(error)")
            XCTAssertTrue("\(error)".contains("into a folder under \(root.path)/, or name it with curator.open(path, {model=FOLDER})"), "\(error)")
        }
        // An unknown id that names a Hugging Face repository: that repository, into the folder it would be found in.
        XCTAssertThrowsError(try locator.folder(forModelID: "hf:someone/clip-vit-huge-14")) { error in
            XCTAssertTrue("\(error)".contains("from the Hugging Face page of someone/clip-vit-huge-14 into \(root.path)/clip-vit-huge-14/"), "\(error)")
        }
        // A chosen folder must be the model that made the vectors.
        XCTAssertThrowsError(try locator.folder(forModelID: "openai-clip:ViT-B/32", chosen: tiny)) { error in
            XCTAssertTrue("\(error)".contains("holds model hf:tiny-hf, but the album's vectors were made by openai-clip:ViT-B/32"), "\(error)")
        }
        XCTAssertEqual(try locator.folder(forModelID: "hf:tiny-hf", chosen: tiny).path, tiny.path)
    }

    // MARK: SigLIP

    private func siglipAlbum(_ n: Int = 6) throws -> (Album, TemporaryFolder) {
        try album(embeddedBy: SigLIPFixture.siglip2Model, n)
    }

    func testSigLIPScoresAreCalibratedProbabilitiesCombinedPerImage() throws {
        let (album, _) = try siglipAlbum()
        XCTAssertEqual(album.embedder, "clip")
        XCTAssertEqual(album.modelID, "siglip:tiny-siglip2")
        let encoder = try album.textEncoder()
        let (scale, bias) = try XCTUnwrap(encoder.calibration)
        let texts = try encoder.embed(["a dog on a beach", "blurry photo"])
        let matrix = try album.matrix()
        func cosine(_ t: Int, _ row: Int) -> Float { BLAS.dot(encoder.dimension, texts.row(t), matrix.matrix.row(row)) }
        func probability(_ c: Float) -> Float { 1 / (1 + exp(-(c * exp(scale) + bias))) }

        // One prompt: its probability; a negative is subtracted in score space, at weight 0.5.
        let plain = try album.search(SearchQuery(text: "a dog on a beach"), k: nil)
        XCTAssertEqual(plain.count, 6)
        for hit in plain {
            let p = probability(cosine(0, matrix.rowOf[hit.imageID]!))
            XCTAssertEqual(hit.score, p, accuracy: 1e-6)
            XCTAssert(hit.score > 0 && hit.score < 1)
        }
        let hits = try album.search(SearchQuery(text: "a dog on a beach", negatives: ["blurry photo"]), k: 6)
        for hit in hits {
            let row = matrix.rowOf[hit.imageID]!
            XCTAssertEqual(hit.score, probability(cosine(0, row)) - 0.5 * probability(cosine(1, row)), accuracy: 1e-6)
        }
        XCTAssertEqual(hits.map(\.score), hits.map(\.score).sorted(by: >))
        // An image among the positives counts with its cosine, the text with its probability.
        let first = matrix.imageIDs[0]
        let mixed = try album.scores(SearchQuery(positives: [.text("a dog on a beach"), .image(first)]))
        for row in 0..<matrix.matrix.rows {
            let imageCosine = BLAS.dot(encoder.dimension, matrix.matrix.row(0), matrix.matrix.row(row))
            XCTAssertEqual(mixed[row], 0.5 * probability(cosine(0, row)) + 0.5 * imageCosine, accuracy: 1e-5)
        }
        // prompt= without min_score keeps what PhotoMapAI's SigLIP floor keeps (0.005, not CLIP's 0.2).
        XCTAssertEqual(album.defaultPromptMinimum, 0.005)
        var options = SelectOptions(method: "fps", count: 1, iterations: 1, seed: 1)
        options.prompt = SearchQuery(text: "a dog on a beach")
        let run = try album.select(options)
        XCTAssertEqual(run.candidates, plain.filter { $0.score >= 0.005 }.count)
        XCTAssertEqual(run.parameters["min_score"], "0.005")
        // Labels: the best label's probability.
        let labels = try album.labels(["a dog on a beach", "blurry photo"])
        for label in labels {
            let row = matrix.rowOf[label.imageID]!
            let best = max(cosine(0, row), cosine(1, row))
            XCTAssertEqual(label.score, probability(best), accuracy: 1e-6)
            XCTAssertEqual(label.label, cosine(0, row) >= cosine(1, row) ? 0 : 1)
        }
    }

    func testPhotoMapSigLIP2VectorsPairWithTheModelThatMadeThem() throws {
        let models = TemporaryFolder()
        // PhotoMapAI's SigLIP 2 model, installed under its known folder name (the tiny fixture stands in for it).
        let installed = URL(fileURLWithPath: models.path).appendingPathComponent("siglip2-large-patch16-256")
        try FileManager.default.copyItem(at: SigLIPFixture.siglip2Model, to: installed)
        let albumFolder = TemporaryFolder()
        let names = ["a.png", "b.png", "c.png", "d.png"]
        for (i, name) in names.enumerated() { albumFolder.writePNG(name, size: 48, seed: 10 + i) }
        // PhotoMapAI's index of the album, its vectors made by that model.
        let vision = try CLIPVisionEncoder(modelFolder: installed)
        let paths = names.map { albumFolder.path + "/" + $0 }
        let vectors = EmbeddingMatrix(rows: names.count, dimension: vision.dimension)
        _ = try vision.embed(paths: paths.map { FileSystemPath($0) }, into: vectors)
        let id = "siglip:google/siglip2-large-patch16-256"
        _ = albumFolder.write("photomap_index/embeddings.npz", ZipFixture.archive([
            ZipFixture.stored("embeddings.npy", ZipFixture.npy(rows: (0..<names.count).map { vectors.vector($0) })),
            ZipFixture.stored("filenames.npy", ZipFixture.npy(strings: paths)),
            ZipFixture.stored("model_id.npy", ZipFixture.npy(strings: [id])),
        ]))
        let album = try Album.open(albumFolder.path, options: .init(model: installed))
        XCTAssertEqual(album.embedder, "photomap")
        XCTAssertEqual(album.modelID, id)
        let encoder = try album.textEncoder()
        XCTAssertEqual(encoder.modelFolder.path, installed.path)
        let hits = try album.search(SearchQuery(text: "a dog on a beach"), k: 2)
        XCTAssertEqual(hits.count, 2)
        let text = try encoder.embed(["a dog on a beach"])
        let matrix = try album.matrix()
        for hit in hits {
            let row = matrix.rowOf[hit.imageID]!
            XCTAssertEqual(hit.score, encoder.score(cosine: BLAS.dot(encoder.dimension, text.row(0), matrix.matrix.row(row))), accuracy: 1e-6)
        }
        // Found by its id under the model roots; missing, it is named with what to download and where.
        XCTAssertEqual(try CLIPModelLocator(roots: [URL(fileURLWithPath: models.path)]).folder(forModelID: id).path, installed.path)
        let empty = TemporaryFolder()
        XCTAssertThrowsError(try CLIPModelLocator(roots: [URL(fileURLWithPath: empty.path)]).folder(forModelID: id)) { error in
            XCTAssertTrue("\(error)".contains("google/siglip2-large-patch16-256"), "\(error)")
            XCTAssertTrue("\(error)".contains("tokenizer.model"), "\(error)")
            XCTAssertTrue("\(error)".contains(empty.path + "/siglip2-large-patch16-256/"), "\(error)")
        }
        // A CLIP text tower is never paired with SigLIP vectors.
        XCTAssertThrowsError(try CLIPModelLocator(roots: []).folder(forModelID: id, chosen: CLIPFixture.huggingFaceModel)) { error in
            XCTAssertTrue("\(error)".contains("but the album's vectors were made by \(id)"), "\(error)")
        }
    }
}
