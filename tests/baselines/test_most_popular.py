from pyg_simce.baselines import MostPopular, evaluate_baseline
from pyg_simce.metrics import evaluate_ranking
from pyg_simce.train.evaluation import popularity_baseline


def test_most_popular_matches_popularity_baseline(graph_factory):
    data, r = graph_factory(num_users=30, num_items=20, seed=4)
    _, test = graph_factory(num_users=30, num_items=20, seed=5)
    test = (test * (1 - r)).nonzero().t()
    train = data['user', 'rates', 'item'].edge_index
    model = MostPopular().fit(data)
    got = evaluate_baseline(model, train, test, ks=(5, 10))
    ref = popularity_baseline(train, test, 30, 20, ks=(5, 10))
    for key, value in ref.items():
        assert abs(got[key] - value) < 1e-12, key
    user_emb, item_emb = model.get_embedding()
    emb = evaluate_ranking(user_emb, item_emb, train, test, ks=(5, 10))
    assert emb['recall@10'] == got['recall@10']
    top = model.recommend(train, k=3, exclude_edge_index=train)
    order = sorted(range(20), key=lambda i: (-float(r[:, i].sum()), i))
    for u in range(30):
        expected = [i for i in order if r[u, i] == 0][:3]
        assert top[u].tolist() == expected
