"""Label Studio Community: labeling config from rubrics, REST client, and the adapter."""
