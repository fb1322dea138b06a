#include "scenario/recording.hpp"

namespace sim::detail {

std::string csv_field(const value& v) {
    if (v.is_nil()) return "";
    if (const auto* s = v.get_if<std::string>()) {
        if (s->find_first_of(",\"\n") == std::string::npos) return *s;
        std::string out = "\"";
        for (char ch : *s) {
            if (ch == '"') out += '"';
            out += ch;
        }
        return out + "\"";
    }
    return to_display_string(v);
}

void sample(std::vector<std::unique_ptr<recording>>& recordings, const scenario& s,
            const placement& plan, std::vector<std::unique_ptr<host>>& hosts, double t) {
    for (auto& rec : recordings) {
        const auto& members = plan.groups[group_index(s, rec->spec().group)];
        std::vector<std::vector<value>> rows(members.size());
        for (std::size_t h = 0; h < hosts.size(); ++h) {
            std::vector<std::string> ids;
            std::vector<std::size_t> at;
            for (std::size_t k = 0; k < members.size(); ++k) {
                if (members[k].container != h) continue;
                ids.push_back(members[k].id);
                at.push_back(k);
            }
            if (ids.empty()) continue;
            auto got = hosts[h]->observe(ids, rec->spec().observe);
            for (std::size_t i = 0; i < at.size() && i < got.size(); ++i)
                rows[at[i]] = std::move(got[i]);
        }
        rec->write(t, rec->spec().group, rows);
    }
}

}  // namespace sim::detail
