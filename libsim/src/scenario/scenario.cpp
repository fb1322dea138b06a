#include <sim/scenario/scenario.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>
#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <sim/clock/utc_time.hpp>

namespace sim {

std::string scenario_location::to_string() const {
    std::string out = file;
    if (line > 0) out += fmt::format(":{}:{}", line, column);
    if (!key.empty()) out += ": " + key;
    return out;
}

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) {
        if (!out.empty()) out += '\n';
        out += l;
    }
    return out;
}

}  // namespace

scenario_error::scenario_error(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

const scenario_agents* scenario::group(std::string_view n) const noexcept {
    for (const auto& g : agents) {
        if (g.name == n) return &g;
    }
    return nullptr;
}

const scenario_container* scenario::container(std::string_view n) const noexcept {
    for (const auto& c : containers) {
        if (c.name == n) return &c;
    }
    return nullptr;
}

double parse_duration(std::string_view text) {
    std::string s(text);
    std::size_t used = 0;
    double n = 0;
    try {
        n = std::stod(s, &used);
    } catch (const std::exception&) {
        throw std::invalid_argument("not a duration: \"" + s +
                                    "\" (expected 900, 900s, 15min, 6h, 1d)");
    }
    std::string unit = s.substr(used);
    unit.erase(0, unit.find_first_not_of(' '));
    double scale = 0;
    if (unit.empty() || unit == "s") {
        scale = 1;
    } else if (unit == "ms") {
        scale = 0.001;
    } else if (unit == "min") {
        scale = 60;
    } else if (unit == "h") {
        scale = 3600;
    } else if (unit == "d") {
        scale = 86400;
    }
    if (scale == 0 || !(n >= 0) || std::isinf(n)) {
        throw std::invalid_argument("not a duration: \"" + s +
                                    "\" (expected 900, 900s, 15min, 6h, 1d)");
    }
    return n * scale;
}

namespace {

// ---- the schema ---------------------------------------------------------------------------------

struct schema_holder {
    rapidjson::Document doc;
    valijson::Schema schema;
    schema_holder() {
        const std::string_view text = scenario_schema();
        doc.Parse(text.data(), text.size());
        valijson::SchemaParser parser;
        valijson::adapters::RapidJsonAdapter adapter(doc);
        parser.populateSchema(adapter, schema);
    }
};

const schema_holder& the_schema() {
    static const schema_holder holder;
    return holder;
}

// "[agents]" -> "agents", "[2]" -> 2 (as text); "<root>" is skipped.
std::vector<std::string> path_of(const std::vector<std::string>& context) {
    std::vector<std::string> out;
    for (const auto& c : context) {
        if (c.size() >= 2 && c.front() == '[' && c.back() == ']') {
            std::string inner = c.substr(1, c.size() - 2);
            if (inner.size() >= 2 && (inner.front() == '"' || inner.front() == '\'')) {
                inner = inner.substr(1, inner.size() - 2);
            }
            out.push_back(inner);
        }
    }
    return out;
}

bool is_index(const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

std::string key_text(const std::vector<std::string>& path) {
    std::string out;
    for (const auto& p : path) {
        if (is_index(p)) {
            out += "[" + p + "]";
        } else {
            if (!out.empty()) out += '.';
            out += p;
        }
    }
    return out.empty() ? "(the file)" : out;
}

// The schema fragment for a path of the document, following properties, items,
// additionalProperties and local $refs.
const rapidjson::Value* schema_at(const std::vector<std::string>& path) {
    const rapidjson::Value& root = the_schema().doc;
    auto resolve = [&](const rapidjson::Value* v) {
        for (int guard = 0; v != nullptr && v->IsObject() && v->HasMember("$ref") && guard < 8;
             ++guard) {
            std::string ref = (*v)["$ref"].GetString();
            const std::string prefix = "#/definitions/";
            if (!ref.starts_with(prefix)) return v;
            const auto& defs = root["definitions"];
            auto it = defs.FindMember(ref.substr(prefix.size()).c_str());
            v = it == defs.MemberEnd() ? nullptr : &it->value;
        }
        return v;
    };
    const rapidjson::Value* v = &root;
    for (const auto& p : path) {
        v = resolve(v);
        if (v == nullptr || !v->IsObject()) return nullptr;
        if (is_index(p) && v->HasMember("items")) {
            v = &(*v)["items"];
            continue;
        }
        if (v->HasMember("properties")) {
            const auto& props = (*v)["properties"];
            auto it = props.FindMember(p.c_str());
            if (it != props.MemberEnd()) {
                v = &it->value;
                continue;
            }
        }
        if (v->HasMember("additionalProperties") && (*v)["additionalProperties"].IsObject()) {
            v = &(*v)["additionalProperties"];
            continue;
        }
        return nullptr;
    }
    return resolve(v);
}

std::string expected_at(const std::vector<std::string>& path) {
    const rapidjson::Value* v = schema_at(path);
    if (v != nullptr && v->IsObject() && v->HasMember("x-expected"))
        return (*v)["x-expected"].GetString();
    return "something else";
}

std::vector<std::string> keys_at(const std::vector<std::string>& path) {
    std::vector<std::string> out;
    const rapidjson::Value* v = schema_at(path);
    if (v != nullptr && v->IsObject() && v->HasMember("properties")) {
        for (const auto& m : (*v)["properties"].GetObject())
            out.emplace_back(m.name.GetString());
    }
    return out;
}

// The node at a path, or the deepest one that exists.
YAML::Node node_at(const YAML::Node& root, const std::vector<std::string>& path) {
    YAML::Node n = root;
    for (const auto& p : path) {
        YAML::Node next;
        if (n.IsSequence() && is_index(p)) {
            std::size_t i = std::stoul(p);
            if (i >= n.size()) return n;
            next = n[i];
        } else if (n.IsMap()) {
            bool found = false;
            for (auto it = n.begin(); it != n.end(); ++it) {
                if (it->first.IsScalar() && it->first.Scalar() == p) {
                    next = it->second;
                    found = true;
                    break;
                }
            }
            if (!found) return n;
        } else {
            return n;
        }
        n.reset(next);  // `n = next` would assign next's content into the document
    }
    return n;
}

// The mark of a key in a map (for unknown keys), else the map's own.
YAML::Mark key_mark(const YAML::Node& map, const std::string& key) {
    if (map.IsMap()) {
        for (auto it = map.begin(); it != map.end(); ++it) {
            if (it->first.IsScalar() && it->first.Scalar() == key) return it->first.Mark();
        }
    }
    return map.Mark();
}

std::string shown(const YAML::Node& n) {
    if (n.IsScalar()) {
        const std::string& s = n.Scalar();
        if (n.Tag() == "!") return "\"" + s + "\"";  // quoted in the file
        bool number = !s.empty() && s.find_first_not_of("0123456789.-+eE") == std::string::npos;
        if (number || s == "true" || s == "false" || s == "null") return s;
        return "\"" + s + "\"";
    }
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a mapping";
    return "nothing";
}

// The last 'quoted' word of a valijson description: the key it is about.
std::string quoted_name(const std::string& description) {
    auto b = description.rfind('\'');
    auto a = b == std::string::npos || b == 0 ? std::string::npos : description.rfind('\'', b - 1);
    if (a == std::string::npos) return {};
    return description.substr(a + 1, b - a - 1);
}

std::string where(const std::string& file, const YAML::Mark& m, const std::string& key) {
    scenario_location l{file, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0, key};
    return l.to_string();
}

value to_value(const YAML::Node& n) {
    if (n.IsSequence()) {
        array a;
        for (const auto& x : n)
            a.push_back(to_value(x));
        return value(std::move(a));
    }
    if (n.IsMap()) {
        map m;
        for (auto it = n.begin(); it != n.end(); ++it)
            m.insert_or_assign(value(it->first.Scalar()), to_value(it->second));
        return value(std::move(m));
    }
    if (!n.IsScalar()) return value();
    const std::string& s = n.Scalar();
    if (n.Tag() == "!") return value(s);  // quoted
    if (s == "true") return value(true);
    if (s == "false") return value(false);
    if (s == "null" || s == "~") return value();
    std::int64_t i = 0;
    if (YAML::convert<std::int64_t>::decode(n, i)) {
        std::istringstream in(s);
        std::int64_t x;
        char c;
        if ((in >> x) && !in.get(c)) return value(i);
    }
    double d = 0;
    if (YAML::convert<double>::decode(n, d)) return value(d);
    return value(s);
}

// YAML scalars typed as YAML 1.2's core schema types them (10 an integer, 1.5 a number, true a
// boolean, "10" quoted a string), as JSON, for the validator.
rapidjson::Value to_json(const YAML::Node& n, rapidjson::Document::AllocatorType& alloc) {
    if (n.IsSequence()) {
        rapidjson::Value a(rapidjson::kArrayType);
        for (const auto& x : n)
            a.PushBack(to_json(x, alloc), alloc);
        return a;
    }
    if (n.IsMap()) {
        rapidjson::Value m(rapidjson::kObjectType);
        for (auto it = n.begin(); it != n.end(); ++it) {
            rapidjson::Value key(it->first.Scalar().c_str(), alloc);
            m.AddMember(key, to_json(it->second, alloc), alloc);
        }
        return m;
    }
    if (!n.IsScalar()) return rapidjson::Value(rapidjson::kNullType);
    const value v = to_value(n);
    if (v.is_nil()) return rapidjson::Value(rapidjson::kNullType);
    if (v.is_bool()) return rapidjson::Value(v.as_bool());
    if (v.is_integer()) return rapidjson::Value(static_cast<std::int64_t>(v.as<std::int64_t>()));
    if (v.is_float()) return rapidjson::Value(v.as<double>());
    return rapidjson::Value(n.Scalar().c_str(), alloc);
}

using override_list = std::vector<std::pair<std::vector<std::string>, std::string>>;

void validate(const YAML::Node& root, const std::string& file, const override_list& overrides) {
    valijson::Validator validator(valijson::Validator::kStrongTypes);
    valijson::ValidationResults results;
    rapidjson::Document doc;
    static_cast<rapidjson::Value&>(doc) = to_json(root, doc.GetAllocator());
    valijson::adapters::RapidJsonAdapter target(doc);
    if (validator.validate(the_schema().schema, target, &results)) return;

    struct problem {
        std::vector<std::string> path;
        std::string description;
        std::string set_by;  // the --set that put the value there
    };
    std::vector<problem> all;
    valijson::ValidationResults::Error e;
    while (results.popError(e))
        all.push_back({path_of(e.context), e.description});
    // Keep the most precise report of each problem: drop those whose path is a prefix of
    // another's (valijson reports each failing ancestor too). A value that matches none of
    // the alternatives of a oneOf is one problem at that value, whatever each alternative said.
    auto is_prefix = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
        return a.size() < b.size() && std::equal(a.begin(), a.end(), b.begin());
    };
    std::vector<std::vector<std::string>> alternatives;
    for (const auto& p : all) {
        if (p.description.find("oneOf") != std::string::npos) alternatives.push_back(p.path);
    }
    for (auto& p : all) {
        for (const auto& q : alternatives) {
            if (q == p.path || is_prefix(q, p.path)) {
                p.path = q;
                p.description = "oneOf";
            }
        }
    }
    for (const auto& [path, spec] : overrides) {
        for (auto& p : all) {
            if (p.path == path || is_prefix(path, p.path)) p.set_by = spec;
        }
    }
    std::vector<std::string> messages;
    std::set<std::string> seen;
    for (const auto& p : all) {
        bool superseded = std::any_of(all.begin(), all.end(),
                                      [&](const problem& q) { return is_prefix(p.path, q.path); });
        if (superseded) continue;
        std::string message;
        YAML::Node n = node_at(root, p.path);
        const std::string& d = p.description;
        if (d.find("could not be validated using 'properties'") != std::string::npos ||
            d.find("additionalProperties") != std::string::npos) {
            std::string unknown = quoted_name(d);
            auto known = keys_at(p.path);
            std::vector<std::string> key_path = p.path;
            key_path.push_back(unknown);
            message =
                where(file, key_mark(n, unknown), key_text(key_path)) +
                ": unknown key (expected one of: " + fmt::format("{}", fmt::join(known, ", ")) +
                ")";
        } else if (d.find("issing required property") != std::string::npos) {
            std::vector<std::string> key_path = p.path;
            key_path.push_back(quoted_name(d));
            message = where(file, n.Mark(), key_text(key_path)) + ": missing (expected " +
                      expected_at(key_path) + ")";
        } else {
            std::string at = p.set_by.empty() ? where(file, n.Mark(), key_text(p.path))
                                              : "--set " + p.set_by + ": " + key_text(p.path);
            message = at + ": expected " + expected_at(p.path) + ", got " + shown(n);
        }
        if (seen.insert(message).second) messages.push_back(message);
    }
    if (messages.empty()) messages.push_back(file + ": does not match the scenario schema");
    throw scenario_error(std::move(messages));
}

// ---- overrides
// ------------------------------------------------------------------------------------

std::vector<std::string> apply_override(YAML::Node root, const std::string& spec,
                                        const std::string& file) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw scenario_error({"--set " + spec + ": expected key=value (e.g. agents.0.count=50)"});
    }
    std::string key = spec.substr(0, eq);
    YAML::Node value;
    try {
        value = YAML::Load(spec.substr(eq + 1));
    } catch (const YAML::Exception& e) {
        throw scenario_error({"--set " + spec + ": the value is not YAML: " + e.msg});
    }
    std::vector<std::string> parts;
    std::stringstream ss(key);
    for (std::string part; std::getline(ss, part, '.');)
        parts.push_back(part);
    YAML::Node n = root;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        const bool last = i + 1 == parts.size();
        if (n.IsSequence()) {
            if (!is_index(p) || std::stoul(p) >= n.size()) {
                throw scenario_error(
                    {"--set " + spec + ": " + file + " has no " +
                     key_text({parts.begin(), parts.begin() + static_cast<long>(i) + 1})});
            }
            if (last) {
                n[std::stoul(p)] = value;
                return parts;
            }
            n.reset(n[std::stoul(p)]);
        } else if (n.IsMap() || n.IsNull()) {
            if (last) {
                n[p] = value;
                return parts;
            }
            YAML::Node next = n[p];
            n.reset(next);
        } else {
            throw scenario_error({"--set " + spec + ": " +
                                  key_text({parts.begin(), parts.begin() + static_cast<long>(i)}) +
                                  " is a value, not a mapping or list"});
        }
    }
    return parts;
}

// ---- conversion (after validation) -------------------------------------------------------------

double duration_of(const YAML::Node& n) {
    return parse_duration(n.Scalar());
}

scenario_location location_of(const std::string& file, const YAML::Node& n, std::string key) {
    const YAML::Mark m = n.Mark();
    return {file, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0, std::move(key)};
}

scenario_param param_of(const YAML::Node& n) {
    scenario_param p;
    if (!n.IsMap()) {
        p.constant = to_value(n);
        return p;
    }
    auto it = n.begin();
    const std::string kind = it->first.Scalar();
    const YAML::Node& args = it->second;
    if (kind == "choice") {
        p.k = scenario_param::kind::choice;
        p.constant = to_value(args);
        return p;
    }
    p.a = args[0].as<double>();
    p.b = args[1].as<double>();
    p.k = kind == "uniform"  ? scenario_param::kind::uniform
          : kind == "normal" ? scenario_param::kind::normal
                             : scenario_param::kind::randint;
    return p;
}

scenario_topology topology_of(const YAML::Node& n) {
    scenario_topology t;
    if (n.IsScalar()) {
        t.k = n.Scalar() == "all" ? scenario_topology::kind::all : scenario_topology::kind::ring;
        return t;
    }
    auto it = n.begin();
    const std::string kind = it->first.Scalar();
    if (kind == "random") {
        t.k = scenario_topology::kind::random;
        t.degree = it->second.as<int>();
    } else if (kind == "star") {
        t.k = scenario_topology::kind::star;
        t.group = it->second.Scalar();
    } else {
        t.k = scenario_topology::kind::explicit_list;
        for (const auto& a : it->second)
            t.agents.push_back(a.Scalar());
    }
    return t;
}

// Converts a validated document into a scenario, section by section, collecting what the schema
// cannot check (references between sections, duplicates) as problems with file, line and key.
class scenario_reader {
  public:
    scenario_reader(const YAML::Node& root, const std::string& file) : root_(root), file_(file) {}

    scenario read() {
        s_.file = file_;
        read_header();
        if (root_["mosaik"]) {
            read_mosaik(root_["mosaik"]);
            if (root_["clock"]) {
                problem(root_["clock"], "clock",
                        "a mosaik world runs on mosaik.until and mosaik.time_resolution (give a "
                        "container simulator the date at time 0 as its start_date param)");
            }
            if (root_["agents"] && !root_["containers"]) {
                problem(root_["agents"], "agents",
                        "agents need containers: to live in (each a container: simulator of "
                        "mosaik.sim_config)");
                throw scenario_error(std::move(problems_));
            }
        } else {
            bool complete = true;
            for (const char* key : {"clock", "containers", "agents"}) {
                if (!root_[key]) {
                    problems_.push_back(where(file_, root_.Mark(), key) + ": missing (expected " +
                                        expected_at({key}) + ")");
                    complete = false;
                }
            }
            if (!complete) throw scenario_error(std::move(problems_));
        }
        if (root_["clock"] && !s_.mosaik) read_clock(root_["clock"]);
        if (root_["containers"]) read_containers(root_["containers"]);
        if (root_["agents"]) {
            read_agents(root_["agents"]);
            check_agent_references(root_["agents"]);
        }
        if (s_.mosaik && root_["containers"]) check_world_containers();
        if (root_["record"]) read_records(root_["record"]);
        if (!problems_.empty()) throw scenario_error(std::move(problems_));
        return std::move(s_);
    }

  private:
    void problem(const YAML::Node& n, const std::string& key, const std::string& what) {
        problems_.push_back(location_of(file_, n, key).to_string() + ": " + what);
    }

    void read_header() {
        if (root_["name"]) s_.name = root_["name"].Scalar();
        if (s_.name.empty()) {
            std::string base = file_.substr(file_.find_last_of('/') + 1);
            s_.name = base.substr(0, base.find('.'));
        }
        if (root_["seed"]) s_.seed = root_["seed"].as<std::uint64_t>();
        if (root_["plugins"]) {
            for (const auto& p : root_["plugins"])
                s_.plugins.push_back(p.Scalar());
        }
    }

    void read_clock(const YAML::Node& clock) {
        s_.clock.realtime = clock["mode"].Scalar() == "realtime";
        if (clock["start"]) {
            try {
                s_.clock.start = utc_time::parse(clock["start"].Scalar()).to_utc().to_string();
            } catch (const std::exception& e) {
                problem(
                    clock["start"], "clock.start",
                    std::string("expected an ISO 8601 date such as 2026-06-01T00:00:00Z, got \"") +
                        clock["start"].Scalar() + "\" (" + e.what() + ")");
            }
        }
        if (!clock["start"] && s_.clock.realtime) s_.clock.start = utc_time::now().to_string();
        s_.clock.until = duration_of(clock["until"]);
        if (clock["step"]) {
            s_.clock.step = duration_of(clock["step"]);
            if (*s_.clock.step <= 0)
                problem(clock["step"], "clock.step", "expected a positive duration, got 0");
        }
        if (clock["factor"]) s_.clock.factor = clock["factor"].as<double>();
        if (clock["strict"]) s_.clock.strict = clock["strict"].as<bool>();
        if (clock["max_lag"]) s_.clock.max_lag = duration_of(clock["max_lag"]);
    }

    void read_containers(const YAML::Node& containers) {
        for (std::size_t i = 0; i < containers.size(); ++i) {
            const YAML::Node c = containers[i];
            scenario_container spec;
            spec.name = c["name"].Scalar();
            spec.where = location_of(file_, c, fmt::format("containers[{}]", i));
            if (c["address"]) spec.address = c["address"].Scalar();
            if (c["codec"]) spec.codec = c["codec"].Scalar();
            if (c["process"]) spec.process = c["process"].as<bool>();
            if (c["tls"] && spec.process) {
                problem(c["tls"], fmt::format("containers[{}].tls", i),
                        "TLS for containers in processes of their own is not supported yet (use "
                        "it for containers in threads, or drop process: true)");
            }
            if (c["tls"]) {
                spec.tls_ca = c["tls"]["ca"].Scalar();
                spec.tls_cert = c["tls"]["cert"].Scalar();
                spec.tls_key = c["tls"]["key"].Scalar();
            }
            if (!s_.containers.empty() && spec.codec != s_.containers.front().codec) {
                problem(c["codec"], fmt::format("containers[{}].codec", i),
                        fmt::format("the containers of a scenario talk to each other: they need "
                                    "one codec (containers[0] uses {}, this one {})",
                                    s_.containers.front().codec, spec.codec));
            }
            if (!container_names_.insert(spec.name).second) {
                problem(c["name"], fmt::format("containers[{}].name", i),
                        "\"" + spec.name + "\" names two containers");
            }
            s_.containers.push_back(std::move(spec));
        }
    }

    void read_agents(const YAML::Node& agents) {
        for (std::size_t i = 0; i < agents.size(); ++i) {
            const YAML::Node a = agents[i];
            scenario_agents g;
            g.type = a["type"].Scalar();
            g.name = a["name"] ? a["name"].Scalar() : g.type;
            g.where = location_of(file_, a, fmt::format("agents[{}]", i));
            if (a["count"]) g.count = a["count"].as<std::size_t>();
            read_placement(a["container"], i, g);
            if (a["params"]) {
                for (auto it = a["params"].begin(); it != a["params"].end(); ++it) {
                    const std::string pname = it->first.Scalar();
                    if (pname == "knows") {
                        problem(it->first, fmt::format("agents[{}].params.knows", i),
                                "\"knows\" is set by the group's knows key, not as a parameter");
                    }
                    g.params.emplace_back(pname, param_of(it->second));
                }
            }
            if (a["knows"]) g.knows = topology_of(a["knows"]);
            if (!group_names_.insert(g.name).second) {
                problem(a, fmt::format("agents[{}].name", i),
                        "\"" + g.name +
                            "\" names two agent groups (give each group of the same type a name)");
            }
            s_.agents.push_back(std::move(g));
        }
    }

    // In a mosaik world, each container of containers: is one container: simulator, started
    // once, and its models are agent groups placed in it.
    void check_world_containers() {
        const YAML::Node configs = root_["mosaik"]["sim_config"];
        std::map<std::string, std::string> config_of;  // container -> sim_config name
        for (const auto& c : s_.mosaik->configs) {
            if (!c.container.is_map()) continue;
            const value* name = c.container.as_map().find(value("name"));
            if (name == nullptr) continue;
            const YAML::Node n = configs[c.name]["container"];
            const std::string key = "mosaik.sim_config." + c.name + ".container";
            const scenario_container* spec = s_.container(name->as_string());
            if (spec == nullptr) {
                problem(n["name"], key + ".name",
                        fmt::format("no container \"{}\" (containers: {})", name->as_string(),
                                    fmt::join(container_names_, ", ")));
                continue;
            }
            if (!config_of.emplace(spec->name, c.name).second) {
                problem(n["name"], key + ".name",
                        fmt::format("container {} is already simulator {}", spec->name,
                                    config_of[spec->name]));
            }
            if (n["codec"]) {
                problem(n["codec"], key + ".codec",
                        "the container's codec is set in containers: (" + spec->codec + ")");
            }
            for (auto m = n["models"].begin(); m != n["models"].end(); ++m) {
                const std::string group = m->first.Scalar();
                const scenario_agents* g = s_.group(group);
                if (g == nullptr || std::find(g->containers.begin(), g->containers.end(),
                                              spec->name) == g->containers.end()) {
                    problem(m->first, key + ".models." + group,
                            fmt::format("no agent group \"{}\" in container {} (a named "
                                        "container's models are its agents: groups)",
                                        group, spec->name));
                }
            }
            const auto starts =
                std::count_if(s_.mosaik->simulators.begin(), s_.mosaik->simulators.end(),
                              [&](const auto& sim) { return sim.sim == c.name; });
            if (starts != 1) {
                problem(configs[c.name], "mosaik.sim_config." + c.name,
                        fmt::format("container {} is one simulator: start it exactly once in "
                                    "mosaik.simulators (started {} times)",
                                    spec->name, starts));
            }
        }
        check_adopted(config_of);
        const YAML::Node containers = root_["containers"];
        for (std::size_t i = 0; i < s_.containers.size(); ++i) {
            const scenario_container& spec = s_.containers[i];
            if (spec.process) {
                problem(containers[i]["process"], fmt::format("containers[{}].process", i),
                        "a mosaik world's containers run in sim-runner's process (drop "
                        "process: true)");
            }
            if (!config_of.contains(spec.name)) {
                problem(containers[i], fmt::format("containers[{}]", i),
                        fmt::format("container {} is in no simulator: add one to "
                                    "mosaik.sim_config, {{container: {{name: {}, models: ...}}}}",
                                    spec.name, spec.name));
            }
        }
    }

    // Entities of a named container are its agents: no params, and no more than it holds.
    void check_adopted(const std::map<std::string, std::string>& config_of) {
        std::map<std::string, std::string> container_of;  // sim_config name -> container
        for (const auto& [container, config] : config_of)
            container_of[config] = container;
        std::map<std::pair<std::string, std::string>, std::size_t> asked;
        const YAML::Node sets = root_["mosaik"]["entities"];
        for (std::size_t i = 0; i < s_.mosaik->entity_sets.size(); ++i) {
            const auto& set = s_.mosaik->entity_sets[i];
            const auto sim =
                std::find_if(s_.mosaik->simulators.begin(), s_.mosaik->simulators.end(),
                             [&](const auto& x) { return x.sid == set.sim; });
            if (sim == s_.mosaik->simulators.end() || !container_of.contains(sim->sim)) continue;
            const std::string& container = container_of.at(sim->sim);
            const scenario_agents* g = s_.group(set.model);
            if (g == nullptr) continue;  // not a model of it: the world's check says so
            const std::string key = fmt::format("mosaik.entities[{}]", i);
            if (!set.params.empty()) {
                problem(sets[i]["params"], key + ".params",
                        "the agents of container " + container +
                            " are made with the params of agents: (drop these)");
            }
            std::size_t held = 0;
            for (std::size_t part = 0; part < g->containers.size(); ++part) {
                const std::size_t parts = g->containers.size();
                if (g->containers[part] == container)
                    held += g->count / parts + (part < g->count % parts ? 1 : 0);
            }
            std::size_t& n = asked[{container, g->name}];
            n += static_cast<std::size_t>(std::max<std::int64_t>(set.count, 0));
            if (n > held) {
                problem(sets[i]["count"] ? sets[i]["count"] : sets[i], key + ".count",
                        fmt::format("container {} holds {} agents of {}, and {} are asked for",
                                    container, held, g->name, n));
            }
        }
    }

    void read_placement(const YAML::Node& container, std::size_t i, scenario_agents& g) {
        if (!container) {
            g.containers.push_back(s_.containers.front().name);
        } else if (container.IsSequence()) {
            for (const auto& c : container)
                g.containers.push_back(c.Scalar());
        } else {
            g.containers.push_back(container.Scalar());
        }
        for (const auto& c : g.containers) {
            if (s_.container(c) == nullptr) {
                problem(container, fmt::format("agents[{}].container", i),
                        fmt::format("no container \"{}\" (containers: {})", c,
                                    fmt::join(container_names_, ", ")));
            }
        }
    }

    // References between groups, once all are known.
    void check_agent_references(const YAML::Node& agents) {
        for (std::size_t i = 0; i < s_.agents.size(); ++i) {
            const scenario_topology& t = s_.agents[i].knows;
            const YAML::Node knows = agents[i]["knows"];
            if (t.k == scenario_topology::kind::star && s_.group(t.group) == nullptr) {
                problem(knows, fmt::format("agents[{}].knows.star", i),
                        fmt::format("no agent group \"{}\" (groups: {})", t.group,
                                    fmt::join(group_names_, ", ")));
            }
            if (t.k == scenario_topology::kind::random &&
                static_cast<std::size_t>(t.degree) >= s_.agents[i].count) {
                problem(knows, fmt::format("agents[{}].knows.random", i),
                        fmt::format("expected a degree below the group's count ({}), got {}",
                                    s_.agents[i].count, t.degree));
            }
            for (const auto& ref : t.agents) {
                auto slash = ref.rfind('/');
                const scenario_agents* target =
                    slash == std::string::npos ? nullptr : s_.group(ref.substr(0, slash));
                std::string index = slash == std::string::npos ? "" : ref.substr(slash + 1);
                if (target == nullptr || !is_index(index) || std::stoul(index) >= target->count) {
                    problem(knows, fmt::format("agents[{}].knows.agents", i),
                            "\"" + ref + "\" is not an agent (expected group/index, such as " +
                                s_.agents.front().name + "/0)");
                }
            }
        }
    }

    void read_records(const YAML::Node& records) {
        std::set<std::string> files;
        for (std::size_t i = 0; i < records.size(); ++i) {
            const YAML::Node r = records[i];
            scenario_record rec;
            rec.where = location_of(file_, r, fmt::format("record[{}]", i));
            if (!record_subject(r, i, rec)) continue;
            for (const auto& o : r["observe"])
                rec.observe.push_back(o.Scalar());
            rec.on_change = r["every"] && r["every"].Scalar() == "change";
            if (r["reduce"]) rec.reduce = r["reduce"].Scalar();
            if (r["initial"]) {
                rec.initial = r["initial"].as<bool>();
                if (rec.initial && !rec.reduce.empty())
                    problem(r["initial"], fmt::format("record[{}].initial", i),
                            "initial: rows are entities' values, not a reduction");
                if (rec.initial && rec.entities.empty())
                    problem(r["initial"], fmt::format("record[{}].initial", i),
                            "initial: takes a mosaik world's entities");
            }
            rec.to = r["to"].Scalar();
            if (!files.insert(rec.to).second) {
                problem(r["to"], fmt::format("record[{}].to", i),
                        "\"" + rec.to + "\" is written by two recordings");
            }
            if (rec.on_change && !rec.reduce.empty()) {
                problem(r["every"], fmt::format("record[{}].every", i),
                        "every: change records agents, not a reduction: drop reduce or every");
            }
            s_.records.push_back(std::move(rec));
        }
    }

    // What a recording samples: an agent group, or in a mosaik world an entity set. False
    // (a problem noted) when it names neither.
    bool record_subject(const YAML::Node& r, std::size_t i, scenario_record& rec) {
        const bool world = s_.mosaik.has_value();
        const char* key = world ? "entities" : "agents";
        const char* other = world ? "agents" : "entities";
        if (r[other]) {
            problem(r[other], fmt::format("record[{}].{}", i, other),
                    world ? "a mosaik world records entities (entities: an entity set's name)"
                          : "entities are recorded in a scenario with a mosaik: section");
            return false;
        }
        if (!r[key]) {
            problems_.push_back(where(file_, r.Mark(), fmt::format("record[{}]", i)) +
                                ": missing " + key);
            return false;
        }
        const std::string name = r[key].Scalar();
        if (world) {
            rec.entities = name;
            std::vector<std::string> names;
            for (const auto& set : s_.mosaik->entity_sets) {
                if (set.name == name) return true;
                names.push_back(set.name);
            }
            problem(r[key], fmt::format("record[{}].entities", i),
                    fmt::format("no entity set \"{}\" in mosaik.entities (sets: {})", name,
                                fmt::join(names, ", ")));
            return false;
        }
        rec.group = name;
        if (s_.group(name) != nullptr) return true;
        problem(
            r[key], fmt::format("record[{}].agents", i),
            fmt::format("no agent group \"{}\" (groups: {})", name, fmt::join(group_names_, ", ")));
        return false;
    }

    // ---- the mosaik: section (docs/cosim.md)

    void read_mosaik(const YAML::Node& m) {
        scenario_mosaik w;
        w.where = location_of(file_, m, "mosaik");
        if (m["time_resolution"]) w.time_resolution = m["time_resolution"].as<double>();
        w.until = m["until"].as<std::int64_t>();
        if (m["rt_factor"] && !m["rt_factor"].IsNull()) {
            w.rt_factor = m["rt_factor"].as<double>();
            if (*w.rt_factor <= 0)
                problem(m["rt_factor"], "mosaik.rt_factor",
                        "expected null (as fast as possible) or a positive number of wall seconds "
                        "per simulated second");
        }
        if (m["rt_strict"]) w.rt_strict = m["rt_strict"].as<bool>();
        if (m["lazy_stepping"]) w.lazy_stepping = m["lazy_stepping"].as<bool>();
        if (m["max_loop_iterations"])
            w.max_loop_iterations = m["max_loop_iterations"].as<std::int64_t>();
        if (m["start_timeout"]) w.start_timeout = m["start_timeout"].as<double>();
        if (m["call_timeout"]) w.call_timeout = m["call_timeout"].as<double>();
        read_sim_configs(m["sim_config"], w);
        read_world_groups(m["groups"], w);
        read_world_simulators(m["simulators"], w);
        read_world_entities(m["entities"], w);
        read_world_connections(m["connections"], w);
        read_world_calls(m["calls"], w);
        for (std::size_t i = 0; m["initial_events"] && i < m["initial_events"].size(); ++i) {
            const YAML::Node e = m["initial_events"][i];
            const std::string sid = e["sim"].Scalar();
            if (!has_sid(w, sid))
                problem(e["sim"], fmt::format("mosaik.initial_events[{}].sim", i),
                        "no simulator \"" + sid + "\"");
            w.initial_events.emplace_back(sid, e["time"] ? e["time"].as<std::int64_t>() : 0);
        }
        s_.mosaik = std::move(w);
    }

    void read_sim_configs(const YAML::Node& configs, scenario_mosaik& w) {
        for (auto it = configs.begin(); it != configs.end(); ++it) {
            scenario_mosaik::sim_config c;
            c.name = it->first.Scalar();
            const YAML::Node n = it->second;
            const std::string key = "mosaik.sim_config." + c.name;
            c.where = location_of(file_, n, key);
            if (n["container"]) c.container = to_value(n["container"]);
            if (n["python"]) {
                c.python = n["python"].Scalar();
                static const std::regex module_class(R"([A-Za-z_][\w.]*:[A-Za-z_]\w*)");
                if (!std::regex_match(c.python, module_class))
                    problem(n["python"], key + ".python",
                            "expected module:Class (a module path and a class in it), got \"" +
                                c.python + "\"");
            }
            if (n["cmd"]) c.cmd = n["cmd"].Scalar();
            if (n["cwd"]) c.cwd = n["cwd"].Scalar();
            if (n["env"]) {
                for (auto e = n["env"].begin(); e != n["env"].end(); ++e)
                    c.env.emplace_back(e->first.Scalar(), e->second.Scalar());
            }
            if (n["connect"]) c.connect = n["connect"].Scalar();
            if (n["plugin"]) {
                c.plugin = n["plugin"].Scalar();
                c.simulator = n["simulator"] ? n["simulator"].Scalar() : c.name;
            } else if (n["simulator"]) {
                problem(n["simulator"], key + ".simulator",
                        "simulator: names a simulator of a plugin: (which is missing)");
            }
            const int ways = !c.cmd.empty() + !c.connect.empty() + !c.plugin.empty() +
                             !c.python.empty() + !c.container.is_nil();
            if (ways != 1) {
                problem(
                    n, key,
                    ways == 0
                        ? "expected one of python:, cmd:, connect:, plugin: or container:"
                        : "expected only one of python:, cmd:, connect:, plugin: or container:");
            }
            w.configs.push_back(std::move(c));
        }
    }

    void read_world_groups(const YAML::Node& groups, scenario_mosaik& w) {
        std::set<std::string> ids;
        for (std::size_t i = 0; groups && i < groups.size(); ++i) {
            const YAML::Node g = groups[i];
            scenario_mosaik::group out{g["id"].Scalar(), ""};
            if (g["parent"] && !g["parent"].IsNull()) {
                out.parent = g["parent"].Scalar();
                if (!ids.contains(out.parent))
                    problem(g["parent"], fmt::format("mosaik.groups[{}].parent", i),
                            "no group \"" + out.parent + "\" before this one");
            }
            if (!ids.insert(out.id).second)
                problem(g["id"], fmt::format("mosaik.groups[{}].id", i),
                        "\"" + out.id + "\" names two groups");
            w.groups.push_back(std::move(out));
        }
    }

    void read_world_simulators(const YAML::Node& sims, scenario_mosaik& w) {
        for (std::size_t i = 0; i < sims.size(); ++i) {
            const YAML::Node n = sims[i];
            scenario_mosaik::simulator out;
            out.sid = n["sid"].Scalar();
            out.sim = n["sim"].Scalar();
            out.where = location_of(file_, n, fmt::format("mosaik.simulators[{}]", i));
            if (n["group"] && !n["group"].IsNull()) out.group = n["group"].Scalar();
            if (n["params"]) out.params = to_value(n["params"]).as_map();
            if (std::none_of(w.configs.begin(), w.configs.end(),
                             [&](const auto& c) { return c.name == out.sim; }))
                problem(n["sim"], fmt::format("mosaik.simulators[{}].sim", i),
                        "no simulator \"" + out.sim + "\" in sim_config");
            if (!out.group.empty() &&
                std::none_of(w.groups.begin(), w.groups.end(),
                             [&](const auto& g) { return g.id == out.group; }))
                problem(n["group"], fmt::format("mosaik.simulators[{}].group", i),
                        "no group \"" + out.group + "\"");
            if (has_sid(w, out.sid))
                problem(n["sid"], fmt::format("mosaik.simulators[{}].sid", i),
                        "\"" + out.sid + "\" names two simulators");
            w.simulators.push_back(std::move(out));
        }
    }

    void read_world_entities(const YAML::Node& sets, scenario_mosaik& w) {
        for (std::size_t i = 0; sets && i < sets.size(); ++i) {
            const YAML::Node n = sets[i];
            scenario_mosaik::entities out;
            out.sim = n["sim"].Scalar();
            out.model = n["model"].Scalar();
            out.name = n["name"] ? n["name"].Scalar() : out.sim + "." + out.model;
            out.where = location_of(file_, n, fmt::format("mosaik.entities[{}]", i));
            if (n["count"]) out.count = n["count"].as<std::int64_t>();
            if (n["params"]) out.params = to_value(n["params"]).as_map();
            if (!has_sid(w, out.sim))
                problem(n["sim"], fmt::format("mosaik.entities[{}].sim", i),
                        "no simulator \"" + out.sim + "\"");
            w.entity_sets.push_back(std::move(out));
        }
    }

    void read_world_connections(const YAML::Node& links, scenario_mosaik& w) {
        for (std::size_t i = 0; links && i < links.size(); ++i) {
            const YAML::Node n = links[i];
            scenario_mosaik::connection out;
            out.from = n["from"].Scalar();
            out.to = n["to"].Scalar();
            out.where = location_of(file_, n, fmt::format("mosaik.connections[{}]", i));
            for (const auto& a : n["attrs"] ? n["attrs"] : YAML::Node(YAML::NodeType::Sequence)) {
                if (a.IsScalar()) {
                    out.attrs.emplace_back(a.Scalar(), a.Scalar());
                } else {
                    out.attrs.emplace_back(a[0].Scalar(), a[1].Scalar());
                }
            }
            if (n["time_shifted"]) {
                const YAML::Node shift = n["time_shifted"];
                out.time_shifted = shift.Scalar() == "true"    ? 1
                                   : shift.Scalar() == "false" ? 0
                                                               : shift.as<std::int64_t>();
            }
            if (n["pairing"]) out.pairing = n["pairing"].Scalar();
            if (n["evenly"]) out.evenly = n["evenly"].as<bool>();
            if (n["max_connects"]) out.max_connects = n["max_connects"].as<std::int64_t>();
            if (n["weak"]) out.weak = n["weak"].as<bool>();
            if (n["initial_data"]) out.initial_data = to_value(n["initial_data"]).as_map();
            if (n["async_requests"]) out.async_requests = n["async_requests"].as<bool>();
            if (out.attrs.empty() && !out.async_requests)
                problem(n["attrs"] ? n["attrs"] : n, fmt::format("mosaik.connections[{}].attrs", i),
                        "a connection without async_requests needs at least one attribute");
            for (const auto* end : {&out.from, &out.to}) {
                if (has_set(w, *end)) continue;
                const auto dot = end->find('.');
                if (dot == std::string::npos || !has_sid(w, end->substr(0, dot)))
                    problem(n[end == &out.from ? "from" : "to"],
                            fmt::format("mosaik.connections[{}].{}", i,
                                        end == &out.from ? "from" : "to"),
                            "\"" + *end +
                                "\" is neither an entity set nor a full entity id of a simulator "
                                "here (SID.EID)");
            }
            if (out.pairing != "random" && (n["evenly"] || n["max_connects"])) {
                problem(n["evenly"] ? n["evenly"] : n["max_connects"],
                        fmt::format("mosaik.connections[{}].{}", i,
                                    n["evenly"] ? "evenly" : "max_connects"),
                        "only pairing: random takes evenly and max_connects");
            } else if (out.evenly && n["max_connects"]) {
                problem(n["max_connects"], fmt::format("mosaik.connections[{}].max_connects", i),
                        "max_connects applies with evenly: false (as in mosaik's "
                        "connect_randomly)");
            }
            w.connections.push_back(std::move(out));
        }
    }

    void read_world_calls(const YAML::Node& calls, scenario_mosaik& w) {
        for (std::size_t i = 0; calls && i < calls.size(); ++i) {
            const YAML::Node n = calls[i];
            scenario_mosaik::call c;
            c.sid = n["sim"].Scalar();
            c.method = n["method"].Scalar();
            if (n["args"]) c.args = to_value(n["args"]).as_array();
            if (n["kwargs"]) c.kwargs = to_value(n["kwargs"]).as_map();
            c.where = location_of(file_, n, fmt::format("mosaik.calls[{}]", i));
            if (!has_sid(w, c.sid))
                problem(n["sim"], fmt::format("mosaik.calls[{}].sim", i),
                        "no simulator \"" + c.sid + "\" in mosaik.simulators");
            w.calls.push_back(std::move(c));
        }
    }

    static bool has_set(const scenario_mosaik& w, const std::string& name) {
        return std::any_of(w.entity_sets.begin(), w.entity_sets.end(),
                           [&](const auto& s) { return s.name == name; });
    }

    static bool has_sid(const scenario_mosaik& w, const std::string& sid) {
        return std::any_of(w.simulators.begin(), w.simulators.end(),
                           [&](const auto& s) { return s.sid == sid; });
    }

    const YAML::Node& root_;
    const std::string& file_;
    scenario s_;
    std::vector<std::string> problems_;
    std::set<std::string> container_names_;
    std::set<std::string> group_names_;
};

}  // namespace

scenario parse_scenario(std::string_view text, const std::string& file,
                        const std::vector<std::string>& overrides) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
        throw scenario_error({where(file, e.mark, "") + ": not valid YAML: " + e.msg});
    }
    if (!root.IsMap()) {
        throw scenario_error(
            {file + ": expected a mapping of scenario keys (clock, containers, agents, ...)"});
    }
    override_list applied;
    for (const auto& o : overrides)
        applied.emplace_back(apply_override(root, o, file), o);
    validate(root, file, applied);
    return scenario_reader(root, file).read();
}

scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw scenario_error({path + ": cannot open the file"});
    std::stringstream text;
    text << in.rdbuf();
    return parse_scenario(text.str(), path, overrides);
}

}  // namespace sim
