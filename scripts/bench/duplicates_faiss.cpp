// faiss's inverted file from Debian's libfaiss-dev (1.7.3) on the same
// vectors as curator's duplicate index, for scripts/bench/duplicates.
//
// Debian's package ships the C API's headers (/usr/include/faiss/c_api) but
// not its library: libfaiss.a holds no faiss_* symbol and there is no
// libfaiss_c, so this program uses faiss's C++ API (IndexIVFFlat,
// IndexFlatIP, range_search), which is what the C API wraps.
//
//   duplicates_faiss EMBEDDINGS.npz TRUTH.npz --threshold 0.97 --nlist 548
//       [--nprobe 1 2 4 8 16] [--threads 2] [--stop-at-recall 0.99] [--train-per-list 256]
//       [--queries N]
//
// The npz is read in place (np.savez stores its members uncompressed): the
// `embeddings` member is memory-mapped, never copied. Train on the rows
// (faiss samples --train-per-list rows per list itself: 256 by default,
// curator's index 32), add every row, then a range search of
// every row at the threshold (inner product = cosine on the unit rows), in
// blocks of 16,384 queries, for each nprobe until the recall reaches
// --stop-at-recall. A pair counts as found from either of its rows.
// --queries N searches only both rows of every wanted pair and random rows
// up to N, and scales the search time by rows / N (at 1M the full search
// takes many minutes a probe on this machine); recall stays exact, and the
// pairs reported are then those of the rows searched. Range search, not k-NN then filter: it returns every
// neighbour at or above the threshold whatever their number, as
// a:duplicates does.
//
// TRUTH.npz holds `pairs` (P x 2 int64, i < j) and `cosine` (or
// `pair_cosine`, as make_scale_index.py writes it): recall is the share of
// those pairs at or above the threshold that faiss reports; when it also
// holds `directed` (the pairs moved towards other images), their recall too.
//
// Prints one JSON line per phase on stdout: {"part":"faiss_debian",...}.
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <omp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

/// One array of an uncompressed npz, mapped in place.
struct NpyArray {
    const void* data = nullptr;
    std::string descr;
    std::vector<int64_t> shape;
};

/// A whole file mapped read-only; the arrays point into it.
struct MappedFile {
    const uint8_t* bytes = nullptr;
    size_t size = 0;
    explicit MappedFile(const std::string& path) {
        int fd = open(path.c_str(), O_RDONLY);
        if (fd < 0) throw std::runtime_error("cannot open " + path);
        struct stat st;
        if (fstat(fd, &st) != 0 || st.st_size < 22) { close(fd); throw std::runtime_error(path + ": not a zip file"); }
        size = static_cast<size_t>(st.st_size);
        void* p = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
        close(fd);
        if (p == MAP_FAILED) throw std::runtime_error("cannot map " + path);
        bytes = static_cast<const uint8_t*>(p);
    }
    ~MappedFile() { if (bytes) munmap(const_cast<uint8_t*>(bytes), size); }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
};

uint16_t u16(const uint8_t* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
uint32_t u32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t u64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

void need(bool ok, const std::string& what) { if (!ok) throw std::runtime_error(what); }

/// The member `name` of an npz (stored, not deflated), its .npy header parsed.
NpyArray npzMember(const MappedFile& f, const std::string& path, const std::string& name) {
    const uint8_t* b = f.bytes;
    size_t eocd = f.size - 22;
    while (eocd > 0 && u32(b + eocd) != 0x06054b50) --eocd;
    need(u32(b + eocd) == 0x06054b50, path + ": no zip directory");
    uint64_t entries = u16(b + eocd + 10), cdOffset = u32(b + eocd + 16);
    if (eocd >= 20 && u32(b + eocd - 20) == 0x07064b50) {       // zip64 locator
        uint64_t z = u64(b + eocd - 20 + 8);
        need(z + 56 <= f.size && u32(b + z) == 0x06064b50, path + ": bad zip64 directory");
        entries = u64(b + z + 32);
        cdOffset = u64(b + z + 48);
    }
    size_t p = cdOffset;
    const std::string wanted = name + ".npy";
    for (uint64_t e = 0; e < entries; ++e) {
        need(p + 46 <= f.size && u32(b + p) == 0x02014b50, path + ": bad zip entry");
        uint16_t method = u16(b + p + 10), nameLen = u16(b + p + 28), extraLen = u16(b + p + 30), commentLen = u16(b + p + 32);
        uint64_t compressed = u32(b + p + 20), uncompressed = u32(b + p + 24), local = u32(b + p + 42);
        need(p + 46 + nameLen + extraLen <= f.size, path + ": bad zip entry");
        std::string entryName(reinterpret_cast<const char*>(b + p + 46), nameLen);
        for (size_t x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen;) {   // zip64 extra field
            uint16_t id = u16(b + x), len = u16(b + x + 2);
            if (id == 1) {
                size_t q = x + 4;
                if (uncompressed == 0xFFFFFFFFu) { uncompressed = u64(b + q); q += 8; }
                if (compressed == 0xFFFFFFFFu) { compressed = u64(b + q); q += 8; }
                if (local == 0xFFFFFFFFu) { local = u64(b + q); }
            }
            x += 4 + len;
        }
        if (entryName == wanted) {
            need(method == 0, path + ": " + wanted + " is compressed (np.savez_compressed); write it with np.savez");
            need(local + 30 <= f.size && u32(b + local) == 0x04034b50, path + ": bad local header");
            size_t start = local + 30 + u16(b + local + 26) + u16(b + local + 28);
            need(start + 10 <= f.size && std::memcmp(b + start, "\x93NUMPY", 6) == 0, path + ": " + wanted + " is not .npy");
            uint8_t major = b[start + 6];
            size_t headerLen = major == 1 ? u16(b + start + 8) : u32(b + start + 8);
            size_t headerStart = start + (major == 1 ? 10 : 12);
            need(headerStart + headerLen <= f.size, path + ": bad .npy header");
            std::string header(reinterpret_cast<const char*>(b + headerStart), headerLen);
            NpyArray a;
            size_t d = header.find("'descr':");
            need(d != std::string::npos, path + ": no descr");
            size_t q1 = header.find('\'', d + 8), q2 = header.find('\'', q1 + 1);
            a.descr = header.substr(q1 + 1, q2 - q1 - 1);
            need(header.find("'fortran_order': False") != std::string::npos, path + ": Fortran order");
            size_t s = header.find('(', header.find("'shape':")), t = header.find(')', s);
            std::string dims = header.substr(s + 1, t - s - 1);
            for (size_t i = 0; i < dims.size();) {
                while (i < dims.size() && (dims[i] == ' ' || dims[i] == ',')) ++i;
                if (i >= dims.size()) break;
                a.shape.push_back(std::strtoll(dims.c_str() + i, nullptr, 10));
                while (i < dims.size() && dims[i] != ',') ++i;
            }
            int64_t count = 1;
            for (int64_t v : a.shape) count *= v;
            size_t itemSize = static_cast<size_t>(std::atoi(a.descr.c_str() + 2));
            need(headerStart + headerLen + count * itemSize <= f.size, path + ": " + wanted + " runs past the file");
            a.data = b + headerStart + headerLen;
            return a;
        }
        p += 46 + nameLen + extraLen + commentLen;
    }
    throw std::runtime_error(path + ": no member " + wanted);
}

bool hasMember(const MappedFile& f, const std::string& path, const std::string& name) {
    try { npzMember(f, path, name); return true; } catch (const std::runtime_error&) { return false; }
}

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// CPU seconds of this process (user + system, every thread): on a shared
/// machine the wall time depends on the load, the CPU time much less.
double cpu() {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double peakGB() {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss * 1024.0 / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> positional;
    float threshold = 0.97f;
    long nlist = 0;
    int threads = 2;
    int trainPerList = 256;   // faiss's default sample: at most 256 rows per list
    int64_t queryCount = 0;   // 0: search every row
    double stopAt = 0.99;
    std::vector<int> nprobes;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
            return argv[++i];
        };
        if (a == "--threshold") threshold = std::stof(value());
        else if (a == "--nlist") nlist = std::stol(value());
        else if (a == "--threads") threads = std::stoi(value());
        else if (a == "--train-per-list") trainPerList = std::stoi(value());
        else if (a == "--queries") queryCount = std::stoll(value());
        else if (a == "--stop-at-recall") stopAt = std::stod(value());
        else if (a == "--nprobe") { while (i + 1 < argc && argv[i + 1][0] != '-') nprobes.push_back(std::atoi(argv[++i])); }
        else positional.push_back(a);
    }
    if (positional.size() != 2 || nlist <= 0) {
        std::fprintf(stderr, "usage: duplicates_faiss EMBEDDINGS.npz TRUTH.npz --nlist N [--threshold T] "
                             "[--nprobe 1 2 4 ...] [--threads 2] [--stop-at-recall 0.99]\n");
        return 2;
    }
    if (nprobes.empty()) nprobes = {1, 2, 4, 8, 16};
    try {
        omp_set_num_threads(threads);
        double started = now();
        MappedFile embeddingsFile(positional[0]);
        NpyArray x = npzMember(embeddingsFile, positional[0], "embeddings");
        need(x.descr == "<f4" && x.shape.size() == 2, positional[0] + ": embeddings must be a 2-D float32 array");
        const int64_t n = x.shape[0], d = x.shape[1];
        const float* rows = static_cast<const float*>(x.data);

        MappedFile truthFile(positional[1]);
        NpyArray pairs = npzMember(truthFile, positional[1], "pairs");
        NpyArray cosine = npzMember(truthFile, positional[1],
                                    hasMember(truthFile, positional[1], "cosine") ? "cosine" : "pair_cosine");
        need(pairs.descr == "<i8" && pairs.shape.size() == 2 && pairs.shape[1] == 2 && cosine.descr == "<f4" &&
                 cosine.shape[0] == pairs.shape[0], positional[1] + ": pairs (P x 2 int64) and cosine (P float32) expected");
        // Wanted pairs at or above the threshold, by key i * n + j (i < j).
        std::unordered_map<uint64_t, bool> wanted;
        // The pairs make_duplicates_sample.py moved towards other images, when it says which.
        std::unordered_map<uint64_t, bool> directed;
        if (hasMember(truthFile, positional[1], "directed")) {
            NpyArray dp = npzMember(truthFile, positional[1], "directed");
            need(dp.descr == "<i8" && dp.shape.size() == 2 && dp.shape[1] == 2, positional[1] + ": directed (D x 2 int64) expected");
            const int64_t* dr = static_cast<const int64_t*>(dp.data);
            for (int64_t p = 0; p < dp.shape[0]; ++p)
                directed[static_cast<uint64_t>(std::min(dr[2 * p], dr[2 * p + 1])) * n + std::max(dr[2 * p], dr[2 * p + 1])] = false;
        }
        const int64_t* pr = static_cast<const int64_t*>(pairs.data);
        const float* pc = static_cast<const float*>(cosine.data);
        for (int64_t p = 0; p < pairs.shape[0]; ++p) {
            if (pc[p] < threshold) continue;
            int64_t i = std::min(pr[2 * p], pr[2 * p + 1]), j = std::max(pr[2 * p], pr[2 * p + 1]);
            wanted[static_cast<uint64_t>(i) * n + j] = false;
        }
        double loaded = now() - started;

        double t0 = now(), c0 = cpu();
        faiss::IndexFlatIP quantiser(d);
        faiss::IndexIVFFlat index(&quantiser, d, nlist, faiss::METRIC_INNER_PRODUCT);
        index.cp.max_points_per_centroid = trainPerList;
        index.train(n, rows);
        double trained = now() - t0;
        t0 = now();
        index.add(n, rows);
        double added = now() - t0, buildCPU = cpu() - c0;
        std::printf("{\"part\":\"faiss_debian\",\"phase\":\"build\",\"library\":\"libfaiss-dev %d.%d.%d C++ API\","
                    "\"index\":\"IndexIVFFlat\",\"rows\":%lld,\"dim\":%lld,\"nlist\":%ld,\"train_per_list\":%d,\"threads\":%d,"
                    "\"threshold\":%.4f,\"wanted_pairs\":%zu,\"load_seconds\":%.3f,\"train_seconds\":%.3f,"
                    "\"add_seconds\":%.3f,\"build_cpu_seconds\":%.3f,\"peak_gb\":%.3f}\n",
                    FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR, FAISS_VERSION_PATCH, (long long)n, (long long)d, nlist,
                    trainPerList, threads, threshold, wanted.size(), loaded, trained, added, buildCPU, peakGB());
        std::fflush(stdout);

        // The rows searched: every row, or (--queries) both rows of every wanted
        // pair plus random rows up to that many, the search time then scaled to
        // every row (recall stays exact: each wanted pair's rows are searched).
        std::vector<int64_t> queries;
        if (queryCount > 0 && queryCount < n) {
            std::vector<char> chosen(n, 0);
            for (auto& w : wanted) { chosen[w.first / n] = 1; chosen[w.first % n] = 1; }
            std::mt19937_64 random(20261205);
            int64_t have = 0;
            for (char c : chosen) have += c;
            while (have < queryCount) {
                int64_t r = static_cast<int64_t>(random() % static_cast<uint64_t>(n));
                if (!chosen[r]) { chosen[r] = 1; ++have; }
            }
            for (int64_t r = 0; r < n; ++r) if (chosen[r]) queries.push_back(r);
        }
        const bool everyRow = queries.empty();
        const int64_t searchedRows = everyRow ? n : static_cast<int64_t>(queries.size());
        const int64_t block = 16384;
        std::vector<float> gathered(everyRow ? 0 : static_cast<size_t>(block * d));
        for (int nprobe : nprobes) {
            index.nprobe = nprobe;
            for (auto& w : wanted) w.second = false;
            std::unordered_set<uint64_t> reported;   // pairs at or above the threshold, found from either row
            t0 = now();
            c0 = cpu();
            for (int64_t s = 0; s < searchedRows; s += block) {
                int64_t m = std::min(block, searchedRows - s);
                const float* x = rows + s * d;
                if (!everyRow) {
                    for (int64_t q = 0; q < m; ++q) std::memcpy(&gathered[q * d], rows + queries[s + q] * d, d * sizeof(float));
                    x = gathered.data();
                }
                faiss::RangeSearchResult result(m);
                index.range_search(m, x, threshold, &result);
                for (int64_t q = 0; q < m; ++q) {
                    int64_t i = everyRow ? s + q : queries[s + q];
                    for (size_t r = result.lims[q]; r < result.lims[q + 1]; ++r) {
                        int64_t j = result.labels[r];
                        if (j == i || j < 0) continue;
                        uint64_t key = static_cast<uint64_t>(std::min(i, j)) * n + std::max(i, j);
                        reported.insert(key);
                        auto hit = wanted.find(key);
                        if (hit != wanted.end()) hit->second = true;
                    }
                }
            }
            double searched = now() - t0, searchCPU = cpu() - c0;
            // Scaled to every row when only some were searched.
            const double scale = double(n) / double(searchedRows);
            double measured = searched;
            searched *= scale;
            searchCPU *= scale;
            size_t found = 0, directedWanted = 0, directedFound = 0;
            for (auto& w : wanted) {
                found += w.second;
                if (directed.count(w.first)) { ++directedWanted; directedFound += w.second; }
            }
            double recall = wanted.empty() ? 1.0 : double(found) / double(wanted.size());
            std::printf("{\"part\":\"faiss_debian\",\"phase\":\"search\",\"nprobe\":%d,\"search_seconds\":%.3f,"
                        "\"searched_rows\":%lld,\"measured_search_seconds\":%.3f,\"seconds\":%.3f,\"search_cpu_seconds\":%.3f,\"cpu_seconds\":%.3f,\"pairs_reported\":%zu,\"recall\":%.6f,\"found\":%zu,\"wanted\":%zu,"
                        "\"directed_found\":%zu,\"directed_wanted\":%zu,\"peak_gb\":%.3f}\n",
                        nprobe, searched, (long long)searchedRows, measured, trained + added + searched, searchCPU, buildCPU + searchCPU, reported.size(), recall, found, wanted.size(), directedFound, directedWanted, peakGB());
            std::fflush(stdout);
            if (recall >= stopAt) break;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "duplicates_faiss: %s\n", e.what());
        return 1;
    }
    return 0;
}
