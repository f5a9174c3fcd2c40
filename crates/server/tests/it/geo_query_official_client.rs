//! Geo2dsphere indexes through the official Rust client: points within a polygon and within
//! an AeroCircle, regions containing a point, each compared with the answer computed here
//! from the data (no false positives, no misses), and kept exact across updates.

use std::collections::HashSet;

use aerie_testkit::ServerProcess;
use aerospike::query::{CollectionIndexType, Filter, PartitionFilter};
use aerospike::{
    as_bin, as_geo, as_key, AdminPolicy, Bins, Client, ClientPolicy, IndexType, QueryPolicy,
    Statement, Task, Value, WritePolicy,
};
use futures::StreamExt;

const NS: &str = "test";

async fn server_and_client() -> (ServerProcess, Client) {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("official client cannot connect to {}: {e}", server.hosts()));
    (server, client)
}

/// The user keys (integers) of every record a query returns.
async fn keys_of(client: &Client, set: &str, filter: Filter) -> HashSet<i64> {
    let mut stmt = Statement::new(NS, set, Bins::All);
    stmt.set_filter(filter);
    let rs = client
        .query(&QueryPolicy::default(), PartitionFilter::all(), stmt)
        .await
        .expect("query");
    let mut out = HashSet::new();
    let mut s = rs.into_stream();
    while let Some(r) = s.next().await {
        let r = r.expect("record");
        match r.bins.get("id") {
            Some(Value::Int(i)) => {
                assert!(out.insert(*i), "record {i} returned twice");
            }
            other => panic!("record without id bin: {other:?}"),
        }
    }
    out
}

async fn index(client: &Client, set: &str, name: &str) {
    client
        .create_index_on_bin(
            &AdminPolicy::default(),
            NS,
            set,
            "loc",
            name,
            IndexType::Geo2DSphere,
            CollectionIndexType::Default,
            None,
        )
        .await
        .expect("create geo index")
        .wait_till_complete(None)
        .await
        .expect("populate");
}

fn point_json(lng: f64, lat: f64) -> String {
    format!(r#"{{"type":"Point","coordinates":[{lng},{lat}]}}"#)
}

fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().min(1.0).asin()
}

#[tokio::test]
async fn points_within_polygon_and_circle() {
    let (_server, client) = server_and_client().await;
    let wp = WritePolicy::default();
    // A 21 x 11 grid of points around the San Francisco bay, half inserted before the index
    // exists (population), half after (maintenance).
    let mut points = Vec::new();
    for i in 0..21i64 {
        for j in 0..11i64 {
            points.push((i * 11 + j, -123.0 + i as f64 * 0.1, 37.0 + j as f64 * 0.1));
        }
    }
    let (before, after) = points.split_at(points.len() / 2);
    for &(id, lng, lat) in before {
        let bins = [
            as_bin!("id", id),
            as_bin!("loc", as_geo!(point_json(lng, lat))),
        ];
        client
            .put(&wp, &as_key!(NS, "geo", id), &bins)
            .await
            .expect("put");
    }
    index(&client, "geo", "geo_loc").await;
    for &(id, lng, lat) in after {
        let bins = [
            as_bin!("id", id),
            as_bin!("loc", as_geo!(point_json(lng, lat))),
        ];
        client
            .put(&wp, &as_key!(NS, "geo", id), &bins)
            .await
            .expect("put");
    }

    // A rectangle whose edges fall between grid lines.
    let (lng_lo, lng_hi, lat_lo, lat_hi) = (-122.55, -121.95, 37.25, 37.75);
    let region = format!(
        r#"{{"type":"Polygon","coordinates":[[[{lng_lo},{lat_lo}],[{lng_hi},{lat_lo}],[{lng_hi},{lat_hi}],[{lng_lo},{lat_hi}],[{lng_lo},{lat_lo}]]]}}"#
    );
    let want: HashSet<i64> = points
        .iter()
        .filter(|&&(_, lng, lat)| lng > lng_lo && lng < lng_hi && lat > lat_lo && lat < lat_hi)
        .map(|p| p.0)
        .collect();
    assert_eq!(want.len(), 6 * 5);
    let got = keys_of(&client, "geo", Filter::geo_within_region("loc", &region)).await;
    assert_eq!(got, want);

    // A circle of 20 km: compare with the great-circle distance of each point.
    let centre = (-122.4, 37.6);
    let radius_m = 20_000.0;
    let want: HashSet<i64> = points
        .iter()
        .filter(|&&(_, lng, lat)| haversine_m(centre, (lng, lat)) <= radius_m)
        .map(|p| p.0)
        .collect();
    assert!(want.len() > 4, "circle too small to mean anything");
    let got = keys_of(
        &client,
        "geo",
        Filter::geo_within_radius("loc", centre.0, centre.1, radius_m),
    )
    .await;
    assert_eq!(got, want);

    // Moving a point out of the region removes it from the answer.
    let moved = *want.iter().next().expect("one point");
    let bins = [
        as_bin!("id", moved),
        as_bin!("loc", as_geo!(point_json(10.0, 10.0))),
    ];
    client
        .put(&wp, &as_key!(NS, "geo", moved), &bins)
        .await
        .expect("put");
    let got = keys_of(
        &client,
        "geo",
        Filter::geo_within_radius("loc", centre.0, centre.1, radius_m),
    )
    .await;
    assert_eq!(got.len(), want.len() - 1);
    assert!(!got.contains(&moved));
}

#[tokio::test]
async fn regions_containing_a_point() {
    let (_server, client) = server_and_client().await;
    let wp = WritePolicy::default();
    index(&client, "regions", "regions_loc").await;
    // Squares of growing size centred on (0, 0), and one far away; circles too.
    let mut shapes = Vec::new();
    for k in 1..=5i64 {
        let h = k as f64 * 0.5;
        shapes.push((
            k,
            format!(
                r#"{{"type":"Polygon","coordinates":[[[-{h},-{h}],[{h},-{h}],[{h},{h}],[-{h},{h}],[-{h},-{h}]]]}}"#
            ),
        ));
    }
    shapes.push((
        10,
        r#"{"type":"Polygon","coordinates":[[[40,40],[41,40],[41,41],[40,41],[40,40]]]}"#
            .to_owned(),
    ));
    shapes.push((
        11,
        r#"{"type":"AeroCircle","coordinates":[[0.0,0.0],150000]}"#.to_owned(),
    ));
    shapes.push((12, point_json(1.2, 1.2)));
    for (id, json) in &shapes {
        let bins = [as_bin!("id", *id), as_bin!("loc", as_geo!(json.clone()))];
        client
            .put(&wp, &as_key!(NS, "regions", *id), &bins)
            .await
            .expect("put");
    }
    // (1.2, 1.2) lies in squares of half-size 1.5, 2.0, 2.5 only (k = 3, 4, 5), and is about
    // 188 km from the circle's centre, outside it; the stored point itself is no region.
    let got = keys_of(
        &client,
        "regions",
        Filter::geo_contains("loc", &point_json(1.2, 1.2)),
    )
    .await;
    assert_eq!(got, HashSet::from([3, 4, 5]));
    let got = keys_of(
        &client,
        "regions",
        Filter::geo_contains("loc", &point_json(0.1, 0.1)),
    )
    .await;
    assert_eq!(got, HashSet::from([1, 2, 3, 4, 5, 11]));
    let got = keys_of(
        &client,
        "regions",
        Filter::geo_contains("loc", &point_json(40.5, 40.5)),
    )
    .await;
    assert_eq!(got, HashSet::from([10]));
}
