-- Label Studio gets its own database beside the connector's (POSTGRES_DB=iaa), same role.
CREATE DATABASE labelstudio OWNER iaa;
